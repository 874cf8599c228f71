// TimerHeap: a binary min-heap of events ordered by deadline. Each event stores its own
// index (EventCore::heap_index), so removing or rescheduling any timer is O(log n)
// (libevent's minheap-internal.h). Only events with a timer part (TimedEventCore) get here.
#pragma once

#include <cstddef>
#include <vector>

#include "reactor/detail/event_core.h"

namespace reactor::detail {

class TimerHeap {
 public:
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  TimedEventCore* top() const { return heap_.empty() ? nullptr : heap_.front(); }

  void push(TimedEventCore* ev);
  // Removes ev (which must be in the heap) from wherever it is.
  void erase(TimedEventCore* ev);

 private:
  static bool earlier(const TimedEventCore* a, const TimedEventCore* b) { return a->deadline < b->deadline; }
  void place(std::size_t i, TimedEventCore* ev) {
    heap_[i] = ev;
    ev->heap_index = static_cast<std::int32_t>(i);
  }
  void sift_up(std::size_t i, TimedEventCore* ev);
  void sift_down(std::size_t i, TimedEventCore* ev);

  std::vector<TimedEventCore*> heap_;
};

// One common-timeout queue: every timer in it has the same duration, so appending keeps it
// sorted by deadline and both insertion and removal are O(1). Only the head is looked at by
// the loop (libevent's common timeouts).
struct CommonQueue {
  Duration duration{0};
  TimedEventCore* head = nullptr;
  TimedEventCore* tail = nullptr;

  // Inserts keeping deadline order; scans from the tail, which is where a deadline computed
  // from "now" always belongs (a kPersist reschedule from an old deadline may step back).
  void insert(TimedEventCore* ev);
  void erase(TimedEventCore* ev);
};

}  // namespace reactor::detail
