// The internal timer structures on their own: the indexed min-heap keeps every element's
// index right through random pushes and removals from anywhere, and the common-timeout FIFO
// stays sorted.
#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "reactor/detail/event_core.h"
#include "timer_heap.h"

namespace reactor::detail {
namespace {

TEST(TimerHeap, IndexedRemovalKeepsHeapOrder) {
  std::vector<TimedEventCore> cores(500);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> ms(0, 10000);
  TimerHeap heap;
  std::vector<TimedEventCore*> in_heap;
  const TimePoint t0{};
  for (TimedEventCore& c : cores) {
    c.deadline = t0 + std::chrono::milliseconds(ms(rng));
    heap.push(&c);
    in_heap.push_back(&c);
  }
  // Remove a random third, from anywhere, using only the stored index.
  std::shuffle(in_heap.begin(), in_heap.end(), rng);
  for (std::size_t i = 0; i < in_heap.size() / 3; ++i) {
    heap.erase(in_heap[i]);
    EXPECT_EQ(in_heap[i]->heap_index, -1);
  }
  in_heap.erase(in_heap.begin(), in_heap.begin() + in_heap.size() / 3);
  ASSERT_EQ(heap.size(), in_heap.size());
  std::vector<TimePoint> popped;
  while (TimedEventCore* top = heap.top()) {
    popped.push_back(top->deadline);
    heap.erase(top);
  }
  EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
  std::vector<TimePoint> expected;
  for (TimedEventCore* c : in_heap) expected.push_back(c->deadline);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(popped, expected);
}

TEST(CommonQueue, FifoStaysSortedAndRemovesInO1) {
  std::vector<TimedEventCore> cores(5);
  CommonQueue q{std::chrono::seconds(1)};
  const TimePoint t0{};
  for (int i = 0; i < 5; ++i) {
    cores[i].deadline = t0 + std::chrono::milliseconds(10 * i);
    q.insert(&cores[i]);
  }
  // A rescheduled timer stepping back from an old deadline lands in its sorted place.
  q.erase(&cores[1]);
  cores[1].deadline = t0 + std::chrono::milliseconds(25);
  q.insert(&cores[1]);
  std::vector<TimedEventCore*> order;
  for (TimedEventCore* c = q.head; c; c = c->timer_next) order.push_back(c);
  EXPECT_EQ(order, (std::vector<TimedEventCore*>{&cores[0], &cores[2], &cores[1], &cores[3], &cores[4]}));
  q.erase(&cores[0]);
  q.erase(&cores[4]);
  EXPECT_EQ(q.head, &cores[2]);
  EXPECT_EQ(q.tail, &cores[3]);
}

}  // namespace
}  // namespace reactor::detail
