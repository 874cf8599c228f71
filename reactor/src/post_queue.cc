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
  if (has_posted.load()) {
    std::uint64_t one = 1;
    ssize_t rc = ::write(wakeup_fd.get(), &one, sizeof one);
    (void)rc;
  }
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
  if (was_empty) {
    std::uint64_t one = 1;
    // Cannot fail short of a counter overflow (EAGAIN), which still leaves it readable.
    ssize_t rc = ::write(wakeup_fd.get(), &one, sizeof one);
    (void)rc;
    wakeup_writes.fetch_add(1, std::memory_order_relaxed);
  }
}

void BaseCore::drain_posted() {
  // Reset the eventfd before taking the queue: a post that lands after the swap finds the
  // queue empty and writes again, so nothing is missed.
  std::uint64_t value;
  ssize_t rc = sys().read(wakeup_fd.get(), &value, sizeof value);
  (void)rc;
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
