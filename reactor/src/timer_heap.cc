#include "timer_heap.h"

namespace reactor::detail {

void TimerHeap::push(TimedEventCore* ev) {
  heap_.push_back(ev);
  sift_up(heap_.size() - 1, ev);
}

void TimerHeap::erase(TimedEventCore* ev) {
  std::size_t i = static_cast<std::size_t>(ev->heap_index);
  ev->heap_index = -1;
  TimedEventCore* last = heap_.back();
  heap_.pop_back();
  if (last == ev) return;
  // The last element fills the hole, then moves up or down to its place.
  if (i > 0 && earlier(last, heap_[(i - 1) / 2])) {
    sift_up(i, last);
  } else {
    sift_down(i, last);
  }
}

void TimerHeap::sift_up(std::size_t i, TimedEventCore* ev) {
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!earlier(ev, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, ev);
}

void TimerHeap::sift_down(std::size_t i, TimedEventCore* ev) {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], ev)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, ev);
}

void CommonQueue::insert(TimedEventCore* ev) {
  TimedEventCore* after = tail;
  while (after != nullptr && ev->deadline < after->deadline) after = after->timer_prev;
  ev->timer_prev = after;
  ev->timer_next = after ? after->timer_next : head;
  if (ev->timer_next)
    ev->timer_next->timer_prev = ev;
  else
    tail = ev;
  if (after)
    after->timer_next = ev;
  else
    head = ev;
}

void CommonQueue::erase(TimedEventCore* ev) {
  if (ev->timer_prev)
    ev->timer_prev->timer_next = ev->timer_next;
  else
    head = ev->timer_next;
  if (ev->timer_next)
    ev->timer_next->timer_prev = ev->timer_prev;
  else
    tail = ev->timer_prev;
  ev->timer_prev = ev->timer_next = nullptr;
}

}  // namespace reactor::detail
