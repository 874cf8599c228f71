#include "signal_registry.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>

namespace reactor::detail {
namespace {

struct Slot {
  std::atomic<int> write_fd{-1};  // read by the handler: lock-free atomic int
  const void* owner = nullptr;    // guarded by g_mutex
  struct sigaction previous {};   // guarded by g_mutex
};

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free int");

Slot g_slots[NSIG];
std::mutex g_mutex;

extern "C" void reactor_signal_handler(int signo) {
  const int saved_errno = errno;
  int fd = g_slots[signo].write_fd.load(std::memory_order_acquire);
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signo);
    ssize_t rc = ::write(fd, &byte, 1);
    (void)rc;  // EAGAIN: the pipe is full of wakeups already
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

void signal_retarget(const void* owner, int write_fd) {
  std::lock_guard lock(g_mutex);
  for (Slot& slot : g_slots) {
    if (slot.owner == owner) slot.write_fd.store(write_fd, std::memory_order_release);
  }
}

}  // namespace reactor::detail
