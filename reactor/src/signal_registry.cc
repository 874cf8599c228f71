#include "signal_registry.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>

#include "reactor/sys_calls.h"

namespace reactor::detail {
namespace {

struct Slot {
  std::atomic<int> write_fd{-1};  // read by the handler: lock-free atomic int
  // The handler's failed writes (not EAGAIN) while `owner` held it; reset at acquire.
  std::atomic<std::uint64_t> write_errors{0};
  const void* owner = nullptr;   // guarded by g_mutex
  struct sigaction previous {};  // guarded by g_mutex
};

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free int");

Slot g_slots[NSIG];
std::mutex g_mutex;

extern "C" void reactor_signal_handler(int signo) {
  const int saved_errno = errno;
  int fd = g_slots[signo].write_fd.load(std::memory_order_acquire);
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signo);
    // Through the seam (a test fails it on the thread it raise()s on): sys() reads one
    // thread-local pointer of this statically linked library (initial-exec TLS), which is
    // async-signal-safe; with no SysCalls installed it is the plain write.
    if (sys().write(fd, &byte, 1) < 0 && errno != EAGAIN) {
      // EAGAIN: the pipe is full of wakeups already. Otherwise this signal is lost: counted.
      g_slots[signo].write_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }
  errno = saved_errno;
}

}  // namespace

bool valid_signal_number(int signo) {
  return signo > 0 && signo < NSIG && signo != SIGKILL && signo != SIGSTOP;
}

void signal_acquire(int signo, const void* owner, int write_fd) {
  if (!valid_signal_number(signo)) {
    throw std::invalid_argument("reactor: invalid signal number " + std::to_string(signo));
  }
  std::lock_guard lock(g_mutex);
  Slot& slot = g_slots[signo];
  if (slot.owner == owner) return;
  if (slot.owner != nullptr) {
    throw std::logic_error("reactor: signal " + std::to_string(signo) +
                           " is already handled by another EventBase");
  }
  // Publish the pipe before the handler can run.
  slot.write_errors.store(0, std::memory_order_relaxed);
  slot.write_fd.store(write_fd, std::memory_order_release);
  struct sigaction sa {};
  sa.sa_handler = reactor_signal_handler;
  sigfillset(&sa.sa_mask);  // no nested signals while writing
  sa.sa_flags = SA_RESTART;
  if (::sigaction(signo, &sa, &slot.previous) < 0) {
    int err = errno;
    slot.write_fd.store(-1, std::memory_order_release);
    throw std::system_error(err, std::generic_category(), "sigaction");
  }
  slot.owner = owner;
}

void signal_release(int signo, const void* owner) {
  if (!valid_signal_number(signo)) return;
  std::lock_guard lock(g_mutex);
  Slot& slot = g_slots[signo];
  if (slot.owner != owner) return;
  ::sigaction(signo, &slot.previous, nullptr);
  slot.write_fd.store(-1, std::memory_order_release);
  slot.owner = nullptr;
}

std::uint64_t signal_write_errors(const void* owner) {
  std::lock_guard lock(g_mutex);
  std::uint64_t sum = 0;
  for (Slot& slot : g_slots) {
    if (slot.owner == owner) sum += slot.write_errors.load(std::memory_order_relaxed);
  }
  return sum;
}

void signal_retarget(const void* owner, int write_fd) {
  std::lock_guard lock(g_mutex);
  for (Slot& slot : g_slots) {
    if (slot.owner == owner) slot.write_fd.store(write_fd, std::memory_order_release);
  }
}

}  // namespace reactor::detail
