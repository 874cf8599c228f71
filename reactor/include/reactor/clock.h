// Time as the reactor sees it: the monotonic clock, microsecond durations.
#pragma once

#include <chrono>

namespace reactor {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
// Timeouts are microseconds, like libevent's struct timeval; milliseconds and seconds convert
// implicitly.
using Duration = std::chrono::microseconds;

}  // namespace reactor
