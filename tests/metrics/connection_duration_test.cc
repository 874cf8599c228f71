// ConnectionDurationObserver: per-loop slots summed into one cumulative histogram.
#include "server/metrics/connection_duration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace reactord::metrics {
namespace {

TEST(ConnectionDurationTest, SumsLoopsIntoCumulativeBuckets) {
  ConnectionDurationObserver observer(2);
  observer.record(0, 0.0005);  // <= 1 ms
  observer.record(1, 2.0);     // <= 5 s
  observer.record(1, 7200);    // +Inf
  observer.record(7, 1.0);     // no such loop: ignored, not a crash
  auto h = observer.histogram();
  ASSERT_EQ(h.bucket.size(), ConnectionDurationObserver::kBoundsSeconds.size() + 1);
  EXPECT_EQ(h.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(h.bucket[4].cumulative_count, 1u);   // <= 1 s
  EXPECT_EQ(h.bucket[5].cumulative_count, 2u);   // <= 5 s
  EXPECT_EQ(h.bucket[11].cumulative_count, 2u);  // <= 3600 s
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  EXPECT_EQ(h.bucket.back().cumulative_count, 3u);
  EXPECT_EQ(h.sample_count, 3u);
  EXPECT_NEAR(h.sample_sum, 7202.0005, 1e-6);
}

TEST(ConnectionDurationTest, OneWriterPerLoopWhileScraping) {
  ConnectionDurationObserver observer(2);
  constexpr int kEach = 5000;
  std::thread loop0([&] {
    for (int i = 0; i < kEach; ++i) observer.record(0, 0.002);
  });
  std::thread loop1([&] {
    for (int i = 0; i < kEach; ++i) observer.record(1, 20);
  });
  for (int i = 0; i < 50; ++i) {
    auto h = observer.histogram();
    EXPECT_EQ(h.sample_count, h.bucket.back().cumulative_count);
  }
  loop0.join();
  loop1.join();
  EXPECT_EQ(observer.histogram().sample_count, 2u * kEach);
}

}  // namespace
}  // namespace reactord::metrics
