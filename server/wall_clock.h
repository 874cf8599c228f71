// Steady-clock time points (reactor::Clock, what the loops keep) as wall-clock ones (what
// operators read). One pair of clock reads at construction, then as many conversions as the
// caller needs: a scan over thousands of connections converts each opening time without
// reading the clocks again. Any thread (a value).
#pragma once

#include <chrono>

#include "reactor/clock.h"

namespace reactord {

class SteadyToWall {
 public:
  SteadyToWall()
      : offset_(std::chrono::system_clock::now().time_since_epoch() -
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    reactor::Clock::now().time_since_epoch())) {}

  std::chrono::system_clock::time_point operator()(reactor::TimePoint t) const {
    return std::chrono::system_clock::time_point(
        offset_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch()));
  }

 private:
  std::chrono::system_clock::duration offset_;  // wall - steady, at construction
};

}  // namespace reactord
