// CycleClock: callback durations for stats() without a clock read per callback.
//
// Why: the loop times every callback (LoopStats::callback_time, longest_callback, the
// histogram). A precise clock_gettime costs ~25 ns and fences the TSC (rdtscp / lfence), which
// stops the CPU from overlapping one callback's cache misses with the next; with 100k timers
// firing in one pass that alone made the pass 15 % slower than libevent's, which times nothing.
// An unfenced rdtsc is a few cycles. Ticks become durations with a rate measured against the
// base's own clock reads (one per iteration, which the loop makes anyway): the rate is the
// ratio over everything since the first read, so it converges and never drifts.
//
// Where there is no TSC, ticks are nanoseconds of CLOCK_MONOTONIC (rate 1).
#pragma once

#include <cstdint>
#include <ctime>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "reactor/clock.h"

namespace reactor::detail {

class CycleClock {
 public:
  // Now, in ticks. Not ordered with surrounding loads and stores: fine for durations of
  // microseconds, which is what callbacks are measured in.
  static std::uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
#endif
  }

  // The ticks from `from` to `to`, or zero when they went back (the thread moved to a CPU whose
  // TSC is behind; ~100 ns here): unsigned, the difference would wrap to centuries.
  static std::uint64_t elapsed(std::uint64_t from, std::uint64_t to) { return to >= from ? to - from : 0; }

  // A (time, ticks) pair taken together by the loop; refines the rate.
  void calibrate(TimePoint now, std::uint64_t at) {
    if (first_ticks_ == 0) {
      first_time_ = now;
      first_ticks_ = at;
      return;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - first_time_).count();
    // Wait for 20 ms of history (a coarse clock moves in 1-10 ms steps) before trusting it.
    if (ns < 20'000'000 || at <= first_ticks_) return;
    ns_per_tick_ = static_cast<double>(ns) / static_cast<double>(at - first_ticks_);
    us_per_tick_ = ns_per_tick_ / 1000.0;
  }

  // Whether a rate is known; until then to_duration() and to_nanoseconds() give zero (callers
  // read the clock).
  bool calibrated() const { return us_per_tick_ > 0; }
  // The duration of `elapsed` ticks: one multiplication (the loop converts three per message).
  Duration to_duration(std::uint64_t elapsed) const {
    return Duration(static_cast<Duration::rep>(static_cast<double>(elapsed) * us_per_tick_));
  }
  // The same in nanoseconds: a time point extrapolated from a clock read (loop_timing.h).
  std::chrono::nanoseconds to_nanoseconds(std::uint64_t elapsed) const {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(elapsed) * ns_per_tick_));
  }
  // Ticks in `ns` nanoseconds (0 until calibrated).
  std::uint64_t ticks_in(std::chrono::nanoseconds ns) const {
    return calibrated() ? static_cast<std::uint64_t>(static_cast<double>(ns.count()) / ns_per_tick_) : 0;
  }

 private:
  TimePoint first_time_{};
  std::uint64_t first_ticks_ = 0;
  double us_per_tick_ = 0;  // the rate in Duration's unit (microseconds) per tick
  double ns_per_tick_ = 0;
};

}  // namespace reactor::detail
