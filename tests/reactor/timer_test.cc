// Timers: the indexed min-heap, common-timeout FIFO queues, the cached time.
#include <algorithm>
#include <random>
#include <vector>

#include "reactor/sys_calls.h"
#include "reactor_test_util.h"
#include "support/manual_clock.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class Timers : public ReactorTest {};

TEST_P(Timers, FireInDeadlineOrderAndNeverEarly) {
  std::vector<int> order;
  std::vector<std::unique_ptr<Event>> timers;
  std::vector<TimePoint> fired_at(6);
  const int delays_ms[] = {30, 10, 50, 20, 0, 40};
  auto start = Clock::now();
  for (int i = 0; i < 6; ++i) {
    timers.push_back(Event::timer(base_, [&, i](int fd, EventFlags what) {
      EXPECT_EQ(fd, -1);
      EXPECT_EQ(what, kTimeout);
      order.push_back(delays_ms[i]);
      fired_at[i] = Clock::now();
    }));
    timers.back()->add(Duration(std::chrono::milliseconds(delays_ms[i])));
  }
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(order, (std::vector<int>{0, 10, 20, 30, 40, 50}));
  for (int i = 0; i < 6; ++i) {
    EXPECT_GE(fired_at[i] - start, std::chrono::milliseconds(delays_ms[i]));
  }
}

TEST_P(Timers, HeapRemovalFromTheMiddleKeepsOrder) {
  // Many timers with shuffled deadlines; delete every third, from anywhere in the heap. The
  // base reads a ManualClock, which holds time still while they are added: with real time, a
  // machine that paused between two adds made a later, shorter timer fire after an earlier,
  // longer one (seen once at load 7).
  reactord::test_support::ManualClock clock;
  ScopedSysCalls installed(clock);
  std::vector<std::unique_ptr<Event>> timers;
  std::vector<int> fired;
  std::vector<int> delays(60);
  for (int i = 0; i < 60; ++i) delays[i] = i;
  std::mt19937 rng(42);
  std::shuffle(delays.begin(), delays.end(), rng);
  for (int i = 0; i < 60; ++i) {
    int d = delays[i];
    timers.push_back(Event::timer(base_, [&fired, d](int, EventFlags) { fired.push_back(d); }));
    timers.back()->add(Duration(std::chrono::milliseconds(d / 3)));
  }
  std::vector<int> expected;
  for (int i = 0; i < 60; ++i) {
    if (delays[i] % 3 == 0) {
      timers[i]->del();
    } else {
      expected.push_back(delays[i]);
    }
  }
  // Re-adding moves a timer: push one far out, then back.
  std::size_t moved = delays[1] % 3 != 0 ? 1 : 2;
  if (delays[moved] % 3 == 0) moved = 4;  // delays are a permutation: one of these survives
  ASSERT_NE(delays[moved] % 3, 0);
  timers[moved]->add(Duration(1h));
  timers[moved]->add(Duration(std::chrono::milliseconds(delays[moved] / 3)));
  // Deadlines are d/3 ms: time steps 1 ms at a time, and at step k exactly the surviving
  // timers whose d/3 is k fire (in any order among themselves).
  for (int ms = 0; ms < 20; ++ms) {
    const std::size_t before = fired.size();
    EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
    const auto due = std::count_if(expected.begin(), expected.end(), [&](int d) { return d / 3 == ms; });
    ASSERT_EQ(fired.size() - before, static_cast<std::size_t>(due)) << "at " << ms << " ms";
    for (std::size_t i = before; i < fired.size(); ++i) EXPECT_EQ(fired[i] / 3, ms) << "at " << ms << " ms";
    clock.advance(1ms);
  }
  EXPECT_EQ(fired.size(), expected.size());
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
}

TEST_P(Timers, CommonTimeoutsAreFifoAndShareAQueue) {
  CommonTimeout ct = base_.init_common_timeout(Duration(20ms));
  CommonTimeout again = base_.init_common_timeout(Duration(20ms));
  CommonTimeout other = base_.init_common_timeout(Duration(5ms));
  EXPECT_EQ(ct.index, again.index);
  EXPECT_NE(ct.index, other.index);
  EXPECT_EQ(ct.duration, Duration(20ms));
  std::vector<int> order;
  std::vector<std::unique_ptr<Event>> timers;
  for (int i = 0; i < 5; ++i) {
    timers.push_back(Event::timer(base_, [&order, i](int, EventFlags what) {
      EXPECT_EQ(what, kTimeout);
      order.push_back(i);
    }));
  }
  timers[0]->add(ct);
  timers[1]->add(ct);
  timers[2]->add(ct);
  timers[3]->add(other);           // shorter queue fires first
  timers[4]->add(Duration(10ms));  // heap timer in between
  timers[1]->del();                // O(1) removal from the middle of a queue
  std::optional<Duration> left;
  EXPECT_EQ(timers[0]->pending(kTimeout, &left), kTimeout);
  EXPECT_LE(*left, Duration(20ms));
  auto start = Clock::now();
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_GE(Clock::now() - start, 20ms);
  EXPECT_EQ(order, (std::vector<int>{3, 4, 0, 2}));
}

TEST_P(Timers, PersistentCommonTimeoutTicks) {
  CommonTimeout ct = base_.init_common_timeout(Duration(5ms));
  int ticks = 0;
  std::unique_ptr<Event> t;
  t = std::make_unique<Event>(base_, -1, kPersist, [&](int, EventFlags what) {
    EXPECT_EQ(what, kTimeout);
    if (++ticks == 3) t->del();
  });
  t->add(ct);
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(ticks, 3);
}

TEST_P(Timers, ForeignCommonTimeoutFallsBackToAPlainDuration) {
  int calls = 0;
  auto t = Event::timer(base_, [&](int, EventFlags) { ++calls; });
  t->add(CommonTimeout{Duration(1ms), 99});
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(calls, 1);
}

TEST_P(Timers, NowIsCachedForTheWholeCallbackPhase) {
  TimePoint first{}, second{};
  auto a = Event::timer(base_, [&](int, EventFlags) {
    first = base_.now();
    // Burn a little time; the cached time must not move.
    auto until = Clock::now() + 2ms;
    while (Clock::now() < until) {}
  });
  auto b = Event::timer(base_, [&](int, EventFlags) { second = base_.now(); });
  a->activate(kTimeout);
  b->activate(kTimeout);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, TimePoint{});
  // Outside the loop, now() is the real time.
  auto t0 = base_.now();
  auto until = Clock::now() + 1ms;
  while (Clock::now() < until) {}
  EXPECT_GT(base_.now(), t0);
}

TEST_P(Timers, ReAddReplacesAndPlainAddClearsTheTimeout) {
  SocketPair sp;
  Event ev(base_, sp.a.get(), kRead, [](int, EventFlags) {});
  ev.add(Duration(1h));
  std::optional<Duration> left;
  EXPECT_EQ(ev.pending(kTimeout, &left), kTimeout);
  EXPECT_GT(*left, Duration(59min));
  ev.add(Duration(1s));
  EXPECT_EQ(ev.pending(kTimeout, &left), kTimeout);
  EXPECT_LE(*left, Duration(1s));
  ev.add();
  EXPECT_EQ(ev.pending(kTimeout | kRead), kRead);
  ev.del();
}

TEST_P(Timers, CoarseClockKeepsOrderWithinOneTick) {
  // precise_timer = false: libevent's default clock. Timers still fire in deadline order;
  // each may be early or late by one tick of CLOCK_MONOTONIC_COARSE, no more.
  timespec res{};
  ASSERT_EQ(::clock_getres(CLOCK_MONOTONIC_COARSE, &res), 0);
  const auto tick = std::chrono::seconds(res.tv_sec) + std::chrono::nanoseconds(res.tv_nsec);
  EventBase coarse(EventBaseConfig{.backend = GetParam(), .priorities = 1, .precise_timer = false});
  const TimePoint coarse_now = coarse.now();
  EXPECT_LE(coarse_now, Clock::now());  // the same origin: comparable with Clock::now()
  EXPECT_LE(Clock::now() - coarse_now, tick + 50ms);
  std::vector<int> order;
  std::vector<std::unique_ptr<Event>> timers;
  std::vector<TimePoint> fired_at(4);
  const int delays_ms[] = {30, 10, 0, 20};
  const auto start = Clock::now();
  for (int i = 0; i < 4; ++i) {
    timers.push_back(Event::timer(coarse, [&, i](int, EventFlags what) {
      EXPECT_EQ(what, kTimeout);
      order.push_back(delays_ms[i]);
      fired_at[i] = Clock::now();
    }));
    timers.back()->add(Duration(std::chrono::milliseconds(delays_ms[i])));
  }
  EXPECT_EQ(coarse.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(order, (std::vector<int>{0, 10, 20, 30}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(fired_at[i] - start + tick, std::chrono::milliseconds(delays_ms[i]));
  }
}

TEST_P(Timers, AManualClockStepsAnHourLongTimerWithoutWaiting) {
  // The clock seam (SysCalls::clock_gettime): with a ManualClock installed on the loop's
  // thread the base sees only the time the test gives it, so an hour-long timer is tested in
  // microseconds, and a loaded machine cannot make a timer fire early or late.
  reactord::test_support::ManualClock clock;
  ScopedSysCalls installed(clock);
  const TimePoint start = base_.now();
  int fired = 0;
  TimePoint fired_at;
  auto hour = Event::timer(base_, [&](int, EventFlags what) {
    EXPECT_EQ(what, kTimeout);
    ++fired;
    fired_at = base_.now();
  });
  hour->add(Duration(1h));
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_EQ(fired, 0);
  clock.advance(59min + 59s);
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_EQ(fired, 0) << "one second early";
  EXPECT_EQ(base_.now() - start, std::chrono::duration_cast<Clock::duration>(59min + 59s));
  clock.advance(1s);
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(fired_at - start, std::chrono::duration_cast<Clock::duration>(1h));
  EXPECT_FALSE(any(hour->pending(kTimeout)));
}

REACTORD_BACKEND_SUITE(Timers);

}  // namespace
}  // namespace reactord::test_support
