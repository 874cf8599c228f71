#include "server/metrics/duration_histogram.h"

#include <chrono>
#include <tuple>

#include "server/metrics/family_builder.h"

namespace reactord::metrics {

prometheus::ClientMetric::Histogram to_prometheus(const reactor::DurationHistogram& histogram) {
  using Bounds = decltype(reactor::DurationHistogram::kBoundsUs);
  static_assert(std::tuple_size_v<decltype(histogram.counts)> == std::tuple_size_v<Bounds> + 1,
                "DurationHistogram has one +Inf bucket after its finite bounds");
  // The +Inf bucket must equal _count, so the count is the sum of the buckets (the same as
  // `total` when the histogram was filled through record()).
  return cumulative_histogram(
      histogram.counts,
      [](std::size_t i) { return static_cast<double>(reactor::DurationHistogram::kBoundsUs[i]) / 1e6; },
      std::chrono::duration<double>(histogram.sum).count());
}

}  // namespace reactord::metrics
