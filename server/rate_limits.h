// reactord's rate limits on top of the reactor's token buckets (reactor/rate_limit.h).
//
// --rate-limit-per-connection RATE[,BURST]: every client gets a bucket of its own, RATE bytes/s
// in each direction (what it sends us, and its echo), BURST bytes at most at once.
// --rate-limit-total RATE[,BURST]: the whole listener shares RATE. A RateLimitGroup belongs to
// one EventBase (one loop thread, no locks), so the total is split across the loops: each loop
// has a group of RATE/loops (and BURST/loops) shared fairly by that loop's clients. With
// SO_REUSEPORT or round-robin accepting the loops carry similar numbers of clients, and the
// sum never exceeds RATE — the bound an operator relies on. (A loop with fewer clients gives
// each a larger share; one group shared across threads would need a lock on every read.)
//
// Buckets tick about every 100 ms (libevent's default is 1 s): a tenth of the rate arrives ten
// times a second, so a limited client moves smoothly instead of in one-second bursts, for ten
// timer wakeups a second while it is throttled. When 10 does not divide the rate but 8, 16, 5,
// 4 or 20 does (power-of-two rates: 8, a 125 ms tick), that count is used, so the bucket
// enforces the rate exactly; otherwise the rate is rounded down to a multiple of 10 B/s.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "reactor/clock.h"
#include "reactor/rate_limit.h"
#include "units/rate.h"

namespace reactord {

// The bucket of `rate` divided by `split` (loops sharing a total). Any thread.
reactor::TokenBucketConfig to_token_buckets(const units::Rate& rate, unsigned split = 1);
// Back to bytes/s and burst (read direction; reactord sets both alike). Any thread.
units::Rate to_rate(const reactor::TokenBucketConfig& cfg);

}  // namespace reactord
