// LoopTiming on its own (loop_timing.h), with clocks the test controls: a clock read that is
// slow to return — the thread preempted between the tick read and the clock read, or a
// sanitizer's interceptor — must not make the times extrapolated from it run ahead of the
// clock. It did once: paired with the ticks read before it, a read 100 us late put every
// extrapolation for the next millisecond 100 us ahead (CI under ASan, 56-124 us, about one run
// of loop_clock_test in thirty).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "loop_timing.h"

namespace reactor::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Spins (the thread stays on its CPU, as a preempted one would come back) for `d`.
void spin_for(std::chrono::nanoseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
  }
}

// Iterations with nothing to wait for until the tick rate is calibrated (20 ms of history) and
// extrapolation is possible; bounded at 2 s.
void calibrate(LoopTiming& timing) {
  const auto read = [] { return Clock::now(); };
  const auto until = Clock::now() + std::chrono::seconds(2);
  const auto history = Clock::now() + std::chrono::milliseconds(30);
  while (Clock::now() < until) {
    timing.start_poll(read);
    timing.end_poll(read, /*may_extrapolate=*/false);
    if (Clock::now() > history) break;
  }
}

TEST(LoopTiming, ASlowClockReadDoesNotPutExtrapolatedTimesAhead) {
  LoopTiming timing;
  calibrate(timing);
  const auto read = [] { return Clock::now(); };
  for (int round = 0; round < 20; ++round) {
    // The read's time is taken at its end: 300 us after the tick read before it.
    const auto slow_read = [] {
      spin_for(std::chrono::microseconds(300));
      return Clock::now();
    };
    timing.start_poll(read);
    timing.end_poll(slow_read, /*may_extrapolate=*/false);
    const std::uint64_t reads = timing.stats().clock_reads;
    // The next iterations extrapolate from that read (nothing else may be read: checked).
    for (int i = 0; i < 5; ++i) {
      timing.start_poll(read);
      const TimePoint extrapolated = timing.end_poll(read, /*may_extrapolate=*/true);
      const TimePoint real = Clock::now();
      EXPECT_LE(extrapolated, real + std::chrono::microseconds(5))
          << "round " << round << ": " << (extrapolated - real).count() << " ns ahead";
    }
    EXPECT_EQ(timing.stats().clock_reads, reads) << "round " << round << ": the iterations read the clock";
    if (HasFailure()) break;
  }
}

// Times returned are never earlier than the one before, through reads and extrapolations.
TEST(LoopTiming, TimesNeverGoBack) {
  LoopTiming timing;
  calibrate(timing);
  const auto read = [] { return Clock::now(); };
  TimePoint last = timing.end_poll(read, false);
  for (int i = 0; i < 20'000; ++i) {
    timing.start_poll(read);
    const TimePoint t = timing.end_poll(read, /*may_extrapolate=*/i % 7 != 0);
    ASSERT_GE(t, last) << "iteration " << i;
    last = t;
  }
}

}  // namespace
}  // namespace reactor::detail
