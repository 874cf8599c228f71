// PostQueue (post_queue.h): the queue, its eventfd wakeup and the wakeup event's callback.
#include "post_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "reactor/event_base.h"
#include "reactor/sys_calls.h"

namespace reactor::detail {

void PostQueue::open(EventBase& base) {
  // After fork the old event is destroyed against the fresh poller, which does not know its
  // fd; then the parent's eventfd is closed.
  event_.reset();
  fd_.reset();
  int fd = sys().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  fd_.reset(fd);
  event_ = std::make_unique<Event>(base, fd, kRead | kPersist, [this](int, EventFlags) { run(); });
  event_->set_internal(true);
  event_->set_label("post.wakeup");
  event_->set_priority(0);
  event_->add();
  // Functions posted before a reinit() are still queued: make sure they are seen.
  if (has_posted_.load()) wake();
}

void PostQueue::wake() {
  const std::uint64_t one = 1;
  for (;;) {
    if (sys().write(fd_.get(), &one, sizeof one) >= 0) break;
    if (errno == EINTR) continue;
    // EAGAIN: the counter is at its maximum, so the eventfd is readable already: the loop
    // wakes. Anything else (the fd gone bad): counted, and retried by the next post() and at
    // the loop's next iteration, so what is queued is not stranded.
    if (errno != EAGAIN) {
      wakeup_errors_.fetch_add(1, std::memory_order_relaxed);
      wakeup_failed_.store(true, std::memory_order_release);
      return;
    }
    break;
  }
  wakeup_writes_.fetch_add(1, std::memory_order_relaxed);
}

void PostQueue::post(std::function<void()> fn) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = queue_.empty();
    queue_.push_back(std::move(fn));
    has_posted_.store(true, std::memory_order_relaxed);
  }
  posts_.fetch_add(1, std::memory_order_relaxed);
  // A queue that was not empty has a wakeup on its way, unless that wakeup failed.
  if (was_empty || wakeup_failed_.exchange(false, std::memory_order_acq_rel)) wake();
}

void PostQueue::run() {
  // Reset the eventfd before taking the queue: a post that lands after the swap finds the
  // queue empty and writes again, so nothing is missed.
  // A failed read (not EAGAIN: woken for nothing; not EINTR) is counted; the queue is run
  // all the same, and a level-triggered eventfd that stays readable is read again next time.
  std::uint64_t value;
  if (sys().read(fd_.get(), &value, sizeof value) < 0 && errno != EAGAIN && errno != EINTR) {
    wakeup_errors_.fetch_add(1, std::memory_order_relaxed);
  }
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : batch) {
    fn();
    ++ran_;
  }
}

}  // namespace reactor::detail
