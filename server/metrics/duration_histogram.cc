#include "server/metrics/duration_histogram.h"

#include <chrono>
#include <cstdint>
#include <limits>

namespace reactord::metrics {

prometheus::ClientMetric::Histogram to_prometheus(const reactor::DurationHistogram& histogram) {
  using Bounds = decltype(reactor::DurationHistogram::kBoundsUs);
  constexpr std::size_t kFinite = std::tuple_size_v<Bounds>;
  static_assert(std::tuple_size_v<decltype(histogram.counts)> == kFinite + 1,
                "DurationHistogram has one +Inf bucket after its finite bounds");

  prometheus::ClientMetric::Histogram out;
  out.bucket.reserve(kFinite + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kFinite; ++i) {
    cumulative += histogram.counts[i];
    out.bucket.push_back({cumulative, static_cast<double>(reactor::DurationHistogram::kBoundsUs[i]) / 1e6});
  }
  cumulative += histogram.counts[kFinite];
  out.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  // The +Inf bucket must equal _count, so the count is the sum of the buckets (the same as
  // `total` when the histogram was filled through record()).
  out.sample_count = cumulative;
  out.sample_sum = std::chrono::duration<double>(histogram.sum).count();
  return out;
}

}  // namespace reactord::metrics
