#include "server/rate_limits.h"

#include <algorithm>

namespace reactord {

reactor::TokenBucketConfig to_token_buckets(const units::Rate& rate, unsigned split) {
  const std::uint64_t parts = std::max(1u, split);
  const std::uint64_t bytes_per_second = std::max<std::uint64_t>(1, rate.bytes_per_second / parts);
  const std::uint64_t burst = std::max<std::uint64_t>(1, rate.burst / parts);
  // Ticks per second: 10 unless another count near it divides the rate exactly (power-of-two
  // rates: 8), so that the bucket enforces exactly the rate asked for, and every tick still
  // fits in the burst.
  std::uint64_t ticks = 10;
  for (const std::uint64_t candidate : {10, 8, 16, 5, 4, 20}) {
    if (bytes_per_second % candidate == 0 && bytes_per_second / candidate <= burst) {
      ticks = candidate;
      break;
    }
  }
  const std::uint64_t per_tick = std::max<std::uint64_t>(1, bytes_per_second / ticks);
  const std::uint64_t bucket = std::clamp<std::uint64_t>(burst, per_tick, reactor::kRateLimitMax);
  const reactor::Duration tick =
      std::chrono::duration_cast<reactor::Duration>(std::chrono::seconds(1)) / ticks;
  return reactor::TokenBucketConfig{per_tick, bucket, per_tick, bucket, tick};
}

units::Rate to_rate(const reactor::TokenBucketConfig& cfg) {
  const auto ticks_per_second = static_cast<std::uint64_t>(std::chrono::seconds(1) / cfg.tick);
  return units::Rate{cfg.read_rate * std::max<std::uint64_t>(1, ticks_per_second), cfg.read_burst};
}

}  // namespace reactord
