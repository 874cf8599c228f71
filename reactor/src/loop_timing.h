// LoopTiming: the loop's own statistics (LoopStats: iterations, callbacks, time blocked in
// the poll, time in callbacks and their histograms) and the clocks that measure them with at
// most one clock read per iteration. Durations are TSC ticks (cycle_clock.h says why); the
// clock read after the poll calibrates them, and is skipped when the time can be extrapolated
// from the last one (end_poll). One per EventBase (EventBaseImpl::timing). Loop thread
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
  // the last time plus the ticks since, or a clock read (read_clock()) until the cycle clock
  // is calibrated.
  template <class ReadClock>
  TimePoint start_poll(ReadClock&& read_clock) {
    ++stats_.iterations;
    poll_start_ticks_ = CycleClock::ticks();
    if (cycles_.calibrated() && poll_ticks_ != 0) {
      // elapsed(): ticks read on another CPU may be behind poll_ticks_ by the vCPUs' TSC
      // offset; unguarded, the difference would wrap and put the poll's start far ahead.
      poll_start_ = poll_clock_ + cycles_.to_duration(CycleClock::elapsed(poll_ticks_, poll_start_ticks_));
    } else {
      poll_start_ = read_clock();
      ++stats_.clock_reads;
    }
    return poll_start_;
  }

  // After the poll: returns the iteration's time (the start of the callback phase) and records
  // the time blocked. The time is a clock read (read_clock()) or, on the kernel's precise clock
  // (`precise_clock`: CLOCK_MONOTONIC, not a coarse one nor a test's) when no timer is due
  // within kNoTimerWithin (`no_timer_near`, see event_loop.cc) and the last clock read is less
  // than kExtrapolateFor old, that read plus the ticks since. On the precise clock it is never
  // earlier than the time returned before; a test's clock may go anywhere (a test installs
  // one on a running loop, behind the real clock, and steps it).
  // Why (issue #19): at one message per wakeup the loop read the clock once per message, a
  // vDSO clock_gettime that fences the TSC: ~30 ns in a tight loop, and 0.8 % of the server's
  // CPU at 1 x 1 x 64 B after the kernel's socket work (perf, cpu-clock samples); the tick read
  // below is made anyway. The extrapolation is off by the rate's error over at most
  // kExtrapolateFor (parts per million of a millisecond: nanoseconds) and a clock read follows
  // at least every kExtrapolateFor. The tick rate is refined at clock reads (every
  // kRecalibrateEvery-th once it is known).
  template <class ReadClock>
  TimePoint end_poll(ReadClock&& read_clock, bool precise_clock, bool no_timer_near) {
    last_ticks_ = CycleClock::ticks();
    TimePoint after;
    std::uint64_t pair_ticks = last_ticks_;  // the ticks `after` goes with
    // Unsigned: ticks that went backwards (another CPU's TSC, or a read paired with the ticks
    // after it) look old and force a read.
    const std::uint64_t since_read = last_ticks_ - read_ticks_;
    if (precise_clock && no_timer_near && since_read < extrapolate_ticks_) {
      after = read_time_ + cycles_.to_nanoseconds(since_read);
      if (after < poll_clock_) after = poll_clock_;
      maybe_ahead_ = true;
    } else {
      after = read_clock();
      // The read happened somewhere between the two tick reads: a thread preempted (or a
      // sanitizer's interceptor) between the first and the read would pair a late time with
      // early ticks, and every extrapolation from that pair would run ahead of the clock by the
      // delay (CI, under ASan: 56-124 us ahead in 3 % of the runs of loop_clock_test). Paired
      // with the ticks after it, an extrapolation can only lag by the delay; and a pair whose
      // read took longer than kPairWithinTicks does not refine the rate.
      const std::uint64_t read_ticks = CycleClock::ticks();
      ++stats_.clock_reads;
      read_time_ = after;
      read_ticks_ = read_ticks;
      pair_ticks = read_ticks;
      // The rate is the ratio over everything since the first read: once known, one refinement
      // every kRecalibrateEvery reads keeps it as exact (it moves by parts per million) without
      // a floating-point division in every iteration.
      if ((!cycles_.calibrated() || stats_.clock_reads % kRecalibrateEvery == 0) &&
          read_ticks - last_ticks_ < kPairWithinTicks) {
        cycles_.calibrate(after, read_ticks);
        extrapolate_ticks_ = cycles_.ticks_in(kExtrapolateFor);
      }
      // An extrapolation before it may still have run ahead by the rate's error: the base's
      // time then stands still until the clock catches up, and never goes back. read_time_
      // keeps the true read, so the next extrapolation starts from it. Only then: a clock that
      // is behind otherwise is a test's, whose time is the test's to set.
      if (precise_clock && maybe_ahead_ && after < poll_clock_) {
        after = poll_clock_;
      } else {
        maybe_ahead_ = false;
      }
    }
    const Duration waited = cycles_.calibrated()
                                ? cycles_.to_duration(CycleClock::elapsed(poll_start_ticks_, last_ticks_))
                                : std::chrono::duration_cast<Duration>(after - poll_start_);
    stats_.poll_wait += waited;
    record_in(stats_.poll_wait_histogram, waited);
    last_clock_ = after;
    poll_clock_ = after;
    poll_ticks_ = pair_ticks;
    return after;
  }

  // How long a clock read may be extrapolated, and how far away the earliest timer must be for
  // the loop to allow it: farther than the extrapolation can reach past the poll's start, so an
  // extrapolated time never decides whether a timer is due.
  static constexpr std::chrono::nanoseconds kExtrapolateFor = std::chrono::milliseconds(1);
  static constexpr std::chrono::nanoseconds kNoTimerWithin = std::chrono::milliseconds(2);
  static_assert(kNoTimerWithin > kExtrapolateFor);

  // After each callback: times it from the end of the previous one (the end of one callback
  // is the start of the next: one tick read per callback; a clock read only until the cycle
  // clock is calibrated). `work` is what it counts for in LoopStats::callbacks.
  template <class ReadClock>
  void end_callback(ReadClock&& read_clock, int work) {
    Duration took;
    if (cycles_.calibrated()) {
      const std::uint64_t end = CycleClock::ticks();
      took = cycles_.to_duration(CycleClock::elapsed(last_ticks_, end));
      last_ticks_ = end;
    } else {
      const TimePoint end = read_clock();
      ++stats_.clock_reads;
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
  // A clock read bracketed by tick reads further apart than this (10 us at 2 GHz; a vDSO read
  // takes ~60 ticks here) was interrupted: its pair would put the rate off by the delay over
  // the history (cycle_clock.h), so it is not used for the rate.
  static constexpr std::uint64_t kPairWithinTicks = 20'000;

  LoopStats stats_;
  CycleClock cycles_;
  std::uint64_t poll_start_ticks_ = 0;
  TimePoint poll_start_{};
  std::uint64_t last_ticks_ = 0;  // CycleClock::ticks() at the end of the last callback
  TimePoint last_clock_{};        // the last clock read in the callback phase
  TimePoint poll_clock_{};        // the time after the last poll, and the ticks then
  std::uint64_t poll_ticks_ = 0;
  TimePoint read_time_{};  // the last clock read after a poll, and the ticks then
  std::uint64_t read_ticks_ = 0;
  std::uint64_t extrapolate_ticks_ = 0;  // kExtrapolateFor in ticks (0 until calibrated)
  bool maybe_ahead_ = false;             // poll_clock_ was extrapolated (or held at such a time)
};

}  // namespace reactor::detail
