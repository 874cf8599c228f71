// DurationHistogram (per-bucket, microseconds) → Prometheus histogram (cumulative, seconds).
#include "server/metrics/duration_histogram.h"

#include <gtest/gtest.h>

#include <cmath>

namespace reactord::metrics {
namespace {

TEST(DurationHistogramTest, BucketsBecomeCumulativeInSeconds) {
  reactor::DurationHistogram h;
  h.counts[0] = 2;   // <= 1 us
  h.counts[3] = 5;   // <= 64 us
  h.counts[10] = 1;  // <= 1 s
  h.counts[11] = 3;  // +Inf
  h.total = 11;
  h.sum = reactor::Duration(2'500'000);

  auto out = to_prometheus(h);
  ASSERT_EQ(out.bucket.size(), 12u);
  EXPECT_DOUBLE_EQ(out.bucket[0].upper_bound, 1e-6);
  EXPECT_EQ(out.bucket[0].cumulative_count, 2u);
  EXPECT_EQ(out.bucket[2].cumulative_count, 2u);
  EXPECT_DOUBLE_EQ(out.bucket[3].upper_bound, 64e-6);
  EXPECT_EQ(out.bucket[3].cumulative_count, 7u);
  EXPECT_DOUBLE_EQ(out.bucket[5].upper_bound, 0.001);
  EXPECT_DOUBLE_EQ(out.bucket[10].upper_bound, 1.0);
  EXPECT_EQ(out.bucket[10].cumulative_count, 8u);
  EXPECT_TRUE(std::isinf(out.bucket[11].upper_bound));
  EXPECT_EQ(out.bucket[11].cumulative_count, 11u);
  EXPECT_EQ(out.sample_count, 11u);
  EXPECT_DOUBLE_EQ(out.sample_sum, 2.5);
}

TEST(DurationHistogramTest, EmptyHistogramHasZeroBucketsAndInf) {
  auto out = to_prometheus(reactor::DurationHistogram{});
  ASSERT_EQ(out.bucket.size(), 12u);
  for (const auto& b : out.bucket) EXPECT_EQ(b.cumulative_count, 0u);
  EXPECT_EQ(out.sample_count, 0u);
  EXPECT_EQ(out.sample_sum, 0.0);
}

TEST(DurationHistogramTest, BoundsAreIncreasing) {
  auto out = to_prometheus(reactor::DurationHistogram{});
  for (std::size_t i = 1; i < out.bucket.size(); ++i) {
    EXPECT_LT(out.bucket[i - 1].upper_bound, out.bucket[i].upper_bound);
  }
}

}  // namespace
}  // namespace reactord::metrics
