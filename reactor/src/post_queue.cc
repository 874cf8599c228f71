// post(): the one door into a loop from other threads. A mutex-guarded queue plus an eventfd
// that is written only when the queue goes from empty to non-empty; the loop swaps the queue
// out under the lock and runs it without the lock (muduo's queueInLoop, Envoy's post).
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "base_core.h"
#include "reactor/sys_calls.h"

namespace reactor::detail {

void BaseCore::open_wakeup() {
  int fd = sys().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  wakeup_fd.reset(fd);
  wakeup_event =
      std::make_unique<Event>(*self, fd, kRead | kPersist, [this](int, EventFlags) { drain_posted(); });
  wakeup_event->set_internal(true);
  wakeup_event->set_label("post.wakeup");
  wakeup_event->set_priority(0);
  wakeup_event->add();
  // Functions posted before a reinit() are still queued: make sure they are seen.
  if (has_posted.load()) wake();
}

void BaseCore::wake() {
  const std::uint64_t one = 1;
  for (;;) {
    if (sys().write(wakeup_fd.get(), &one, sizeof one) >= 0) break;
    if (errno == EINTR) continue;
    // EAGAIN: the counter is at its maximum, so the eventfd is readable already: the loop
    // wakes. Anything else (the fd gone bad): counted, and retried by the next post() and at
    // the loop's next iteration, so what is queued is not stranded.
    if (errno != EAGAIN) {
      wakeup_errors.fetch_add(1, std::memory_order_relaxed);
      wakeup_failed.store(true, std::memory_order_release);
      return;
    }
    break;
  }
  wakeup_writes.fetch_add(1, std::memory_order_relaxed);
}

void BaseCore::post(std::function<void()> fn) {
  bool was_empty;
  {
    std::lock_guard lock(post_mutex);
    was_empty = posted.empty();
    posted.push_back(std::move(fn));
    has_posted.store(true, std::memory_order_relaxed);
  }
  posts.fetch_add(1, std::memory_order_relaxed);
  // A queue that was not empty has a wakeup on its way, unless that wakeup failed.
  if (was_empty || wakeup_failed.exchange(false, std::memory_order_acq_rel)) wake();
}

void BaseCore::drain_posted() {
  // Reset the eventfd before taking the queue: a post that lands after the swap finds the
  // queue empty and writes again, so nothing is missed.
  // A failed read (not EAGAIN: woken for nothing; not EINTR) is counted; the queue is run
  // all the same, and a level-triggered eventfd that stays readable is read again next time.
  std::uint64_t value;
  if (sys().read(wakeup_fd.get(), &value, sizeof value) < 0 && errno != EAGAIN && errno != EINTR) {
    wakeup_errors.fetch_add(1, std::memory_order_relaxed);
  }
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(post_mutex);
    batch.swap(posted);
    has_posted.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : batch) {
    fn();
    ++posted_ran;
  }
}

}  // namespace reactor::detail
