// A clock the test steps: installed (reactor::ScopedSysCalls / install_sys_calls) on a loop's
// thread, it is what that EventBase reads as the monotonic time, so timers and token-bucket
// ticks move only when the test says so. A test that asserts "N bytes per tick" or "the timer
// fired after 3 s" then holds on a loaded machine, where a sleep-and-measure test does not:
// the loop may run late, but it never sees more time than the test gave it.
//
// Time starts at the real monotonic time of construction (so deadlines set before the clock
// was installed stay in the near future) and moves only by advance(). The loop does not
// notice an advance by itself: wake it (a post(), e.g. the test's on_loop) after advancing.
// The rest of the system calls go to the OS.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "reactor/sys_calls.h"

namespace reactord::test_support {

class ManualClock : public reactor::OsSysCalls {
 public:
  ManualClock() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    ns_.store(std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
  }

  // Moves time forward. Any thread (the test's; the loop reads it).
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }

  // Every clock the base may ask for (CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE) reads the
  // manual time.
  int clock_gettime(clockid_t, timespec* ts) override {
    const std::int64_t ns = ns_.load();
    ts->tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts->tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return 0;
  }

 private:
  std::atomic<std::int64_t> ns_;
};

}  // namespace reactord::test_support
