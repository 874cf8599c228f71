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
  while (Clock::now() < until) {}
}

// Iterations with nothing to wait for, for 30 ms: the tick rate is calibrated (20 ms of
// history) and extrapolation is possible.
void calibrate(LoopTiming& timing) {
  const auto read = [] { return Clock::now(); };
  const auto history = Clock::now() + std::chrono::milliseconds(30);
  while (Clock::now() < history) {
    timing.start_poll(read);
    timing.end_poll(read, /*precise_clock=*/true, /*no_timer_near=*/false);
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
    timing.end_poll(slow_read, /*precise_clock=*/true, /*no_timer_near=*/false);
    const std::uint64_t reads = timing.stats().clock_reads;
    // The next iterations extrapolate from that read (nothing else may be read: checked).
    for (int i = 0; i < 5; ++i) {
      timing.start_poll(read);
      const TimePoint extrapolated = timing.end_poll(read, /*precise_clock=*/true, /*no_timer_near=*/true);
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
  TimePoint last = timing.end_poll(read, true, false);
  for (int i = 0; i < 20'000; ++i) {
    timing.start_poll(read);
    const TimePoint t = timing.end_poll(read, /*precise_clock=*/true, /*no_timer_near=*/i % 7 != 0);
    ASSERT_GE(t, last) << "iteration " << i;
    last = t;
  }
}

// A test's clock installed on a running loop (tests/support/manual_clock.h) starts behind the
// real clock the loop was extrapolating from: its time is taken as it is, not held at the
// real one until the test's clock passes it (the rate-limit tests' ticks were absorbed so).
TEST(LoopTiming, ATestClockBehindTheRealOneIsTakenAsItIs) {
  LoopTiming timing;
  calibrate(timing);
  const auto read = [] { return Clock::now(); };
  timing.start_poll(read);
  const TimePoint real = timing.end_poll(read, /*precise_clock=*/true, /*no_timer_near=*/true);
  const TimePoint behind = real - std::chrono::milliseconds(30);
  const auto test_clock = [behind] { return behind; };
  timing.start_poll(test_clock);
  EXPECT_EQ(timing.end_poll(test_clock, /*precise_clock=*/false, /*no_timer_near=*/true), behind);
  const auto stepped = [behind] { return behind + std::chrono::milliseconds(5); };
  timing.start_poll(stepped);
  EXPECT_EQ(timing.end_poll(stepped, /*precise_clock=*/false, /*no_timer_near=*/true),
            behind + std::chrono::milliseconds(5));
}

}  // namespace
}  // namespace reactor::detail
