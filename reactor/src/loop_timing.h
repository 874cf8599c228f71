// LoopTiming: the loop's own statistics (LoopStats: iterations, callbacks, time blocked in
// the poll, time in callbacks and their histograms) and the clocks that measure them with one
// clock read per iteration. Durations are TSC ticks (cycle_clock.h says why); the one clock
// read, after the poll, calibrates them. One per EventBase (EventBaseImpl::timing). Loop thread
// only, like the loop that drives it.
#pragma once

#include <chrono>
#include <cstdint>

#include "cycle_clock.h"
#include "histogram_bucket.h"
#include "reactor/clock.h"
#include "reactor/inspection.h"

namespace reactor::detail {

class LoopTiming {
 public:
  // Start of an iteration, before the poll: counts the iteration and returns the time now —
  // the last clock read plus the ticks since, or a clock read (read_clock()) until the cycle
  // clock is calibrated.
  template <class ReadClock>
  TimePoint start_poll(ReadClock&& read_clock) {
    ++stats_.iterations;
    poll_start_ticks_ = CycleClock::ticks();
    poll_start_ = cycles_.calibrated() && poll_ticks_ != 0
                      ? poll_clock_ + cycles_.to_duration(poll_start_ticks_ - poll_ticks_)
                      : read_clock();
    return poll_start_;
  }

  // After the poll: `after` is the iteration's one clock read (the start of the callback
  // phase). Records the time blocked and refines the tick rate (every kRecalibrateEvery
  // iterations once it is known).
  void end_poll(TimePoint after) {
    last_ticks_ = CycleClock::ticks();
    const Duration waited = cycles_.calibrated() ? cycles_.to_duration(last_ticks_ - poll_start_ticks_)
                                                 : std::chrono::duration_cast<Duration>(after - poll_start_);
    stats_.poll_wait += waited;
    record_in(stats_.poll_wait_histogram, waited);
    last_clock_ = after;
    poll_clock_ = after;
    poll_ticks_ = last_ticks_;
    // The rate is the ratio over everything since the first read: once known, one refinement
    // every kRecalibrateEvery iterations keeps it as exact (it moves by parts per million)
    // without a floating-point division in every iteration.
    if (!cycles_.calibrated() || stats_.iterations % kRecalibrateEvery == 0)
      cycles_.calibrate(after, last_ticks_);
  }

  // After each callback: times it from the end of the previous one (the end of one callback
  // is the start of the next: one tick read per callback; a clock read only until the cycle
  // clock is calibrated). `work` is what it counts for in LoopStats::callbacks.
  template <class ReadClock>
  void end_callback(ReadClock&& read_clock, int work) {
    Duration took;
    if (cycles_.calibrated()) {
      const std::uint64_t end = CycleClock::ticks();
      took = cycles_.to_duration(end - last_ticks_);
      last_ticks_ = end;
    } else {
      const TimePoint end = read_clock();
      took = std::chrono::duration_cast<Duration>(end - last_clock_);
      last_clock_ = end;
      last_ticks_ = CycleClock::ticks();
    }
    stats_.callback_time += took;
    if (took > stats_.longest_callback) stats_.longest_callback = took;
    record_in(stats_.callback_histogram, took);
    stats_.callbacks += work;
  }

  // What the loop measured; the post and signal counters are the caller's to fill in.
  const LoopStats& stats() const { return stats_; }

 private:
  static constexpr std::uint64_t kRecalibrateEvery = 64;

  LoopStats stats_;
  CycleClock cycles_;
  std::uint64_t poll_start_ticks_ = 0;
  TimePoint poll_start_{};
  std::uint64_t last_ticks_ = 0;  // CycleClock::ticks() at the end of the last callback
  TimePoint last_clock_{};        // the last clock read in the callback phase
  TimePoint poll_clock_{};        // the clock read after the last poll, and the ticks then
  std::uint64_t poll_ticks_ = 0;
};

}  // namespace reactor::detail
