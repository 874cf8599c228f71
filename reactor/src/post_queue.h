// PostQueue: post(), the one door into a loop from other threads. A mutex-guarded queue of
// functions plus an eventfd that is written only when the queue goes from empty to non-empty;
// the loop swaps the queue out under the lock and runs it without the lock (muduo's
// queueInLoop, Envoy's Dispatcher::post). One per EventBase (EventBaseImpl::posts).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "reactor/event.h"
#include "reactor/unique_fd.h"

namespace reactor::detail {

class PostQueue {
 public:
  // Opens the eventfd and adds its internal event ("post.wakeup", priority 0) to base.
  // Also after fork (reinit): the parent's eventfd is replaced, queued functions are kept and
  // a wakeup written for them. Loop thread only; throws std::system_error if eventfd fails.
  void open(EventBase& base);

  // Queues fn to run on the loop thread. Any thread.
  void post(std::function<void()> fn);

  // True while functions wait to run (the loop stays alive for them). Any thread.
  bool has_posted() const { return has_posted_.load(std::memory_order_relaxed); }

  // A wakeup write failed earlier: runs the queue now, whatever woke the loop. Called once per
  // loop iteration. Loop thread only.
  void run_if_wakeup_failed() {
    if (wakeup_failed_.load(std::memory_order_relaxed) && wakeup_failed_.exchange(false)) run();
  }

  // How many posted functions ran since reset_ran() (the loop counts them as the user work of
  // the callback that ran them: the wakeup event's). Loop thread only.
  void reset_ran() { ran_ = 0; }
  int ran() const { return ran_; }

  // Counters for LoopStats. Any thread.
  std::uint64_t posts() const { return posts_.load(std::memory_order_relaxed); }
  std::uint64_t wakeup_writes() const { return wakeup_writes_.load(std::memory_order_relaxed); }
  std::uint64_t wakeup_errors() const { return wakeup_errors_.load(std::memory_order_relaxed); }

 private:
  void wake();  // writes the eventfd. Any thread.
  void run();   // the wakeup event's callback: resets the eventfd, runs the queue

  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;  // guarded by mutex_
  std::atomic<bool> has_posted_{false};
  // A wakeup write failed: the next post() writes again, and the loop runs the queue at its
  // next iteration whatever woke it.
  std::atomic<bool> wakeup_failed_{false};
  std::atomic<std::uint64_t> posts_{0};
  std::atomic<std::uint64_t> wakeup_writes_{0};
  std::atomic<std::uint64_t> wakeup_errors_{0};
  int ran_ = 0;  // loop thread
  UniqueFd fd_;
  std::unique_ptr<Event> event_;
};

}  // namespace reactor::detail
