// ControlMetrics: exact counts by service/method/code, latency buckets, bounded label sets,
// and recording from many threads at once (TSan checks the locking).
#include "server/metrics/control_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace reactord::metrics {
namespace {

const prometheus::ClientMetric* find(const prometheus::MetricFamily& family,
                                     const std::vector<std::pair<std::string, std::string>>& labels) {
  for (const auto& m : family.metric) {
    bool all = true;
    for (const auto& [k, v] : labels) {
      bool hit = false;
      for (const auto& l : m.label) hit = hit || (l.name == k && l.value == v);
      all = all && hit;
    }
    if (all) return &m;
  }
  return nullptr;
}

TEST(ControlMetricsTest, CountsByServiceMethodAndCode) {
  ControlMetrics metrics;
  metrics.record("reactord.v1.Admin", "ListConnections", "OK", 0.0002);
  metrics.record("reactord.v1.Admin", "ListConnections", "OK", 0.003);
  metrics.record("reactord.v1.Admin", "CloseConnection", "NOT_FOUND", 0.7);

  auto families = metrics.Collect();
  // + watchers, watch bytes, watchers ended (WatchBounds), the HTTP/2 guard's four (H2GuardFamilies)
  ASSERT_EQ(families.size(), 9u);
  const auto& requests = families[0];
  const auto& duration = families[1];
  EXPECT_EQ(requests.name, "reactord_control_requests_total");
  EXPECT_EQ(requests.type, prometheus::MetricType::Counter);
  EXPECT_EQ(duration.name, "reactord_control_request_duration_seconds");
  EXPECT_EQ(duration.type, prometheus::MetricType::Histogram);

  ASSERT_EQ(requests.metric.size(), 2u);
  auto* ok = find(requests, {{"method", "ListConnections"}, {"code", "OK"}});
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->counter.value, 2);
  auto* nf = find(requests, {{"method", "CloseConnection"}, {"code", "NOT_FOUND"}});
  ASSERT_NE(nf, nullptr);
  EXPECT_EQ(nf->counter.value, 1);

  auto* list = find(duration, {{"method", "ListConnections"}});
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(list->histogram.sample_sum, 0.0032);
  const auto& b = list->histogram.bucket;
  ASSERT_EQ(b.size(), ControlMetrics::kLatencyBounds.size() + 1);
  EXPECT_EQ(b[0].cumulative_count, 0u);  // <= 0.1 ms
  EXPECT_EQ(b[1].cumulative_count, 1u);  // <= 0.25 ms
  EXPECT_EQ(b[4].cumulative_count, 1u);  // <= 2.5 ms
  EXPECT_EQ(b[5].cumulative_count, 2u);  // <= 5 ms
  EXPECT_TRUE(std::isinf(b.back().upper_bound));
  EXPECT_EQ(b.back().cumulative_count, 2u);

  auto* close = find(duration, {{"method", "CloseConnection"}});
  ASSERT_NE(close, nullptr);
  EXPECT_EQ(close->histogram.bucket[10].cumulative_count, 0u);  // <= 0.5 s
  EXPECT_EQ(close->histogram.bucket[11].cumulative_count, 1u);  // <= 2.5 s
}

TEST(ControlMetricsTest, BadLatencyIsClampedNotCrashing) {
  ControlMetrics metrics;
  metrics.record("s", "m", "OK", NAN);
  metrics.record("s", "m", "OK", -1);
  auto families = metrics.Collect();
  ASSERT_EQ(families[1].metric.size(), 1u);
  EXPECT_EQ(families[1].metric[0].histogram.sample_count, 2u);
  EXPECT_EQ(families[1].metric[0].histogram.sample_sum, 0.0);
}

TEST(ControlMetricsTest, LabelSetsAreBounded) {
  ControlMetrics metrics;
  for (std::size_t i = 0; i < ControlMetrics::kMaxMethods + 50; ++i) {
    metrics.record("svc", "m" + std::to_string(i), "UNIMPLEMENTED", 0.001);
  }
  auto families = metrics.Collect();
  EXPECT_EQ(families[1].metric.size(), ControlMetrics::kMaxMethods + 1);
  auto* other = find(families[0], {{"service", "other"}, {"method", "other"}});
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->counter.value, 50);
}

TEST(ControlMetricsTest, RecordsFromManyThreadsExactly) {
  ControlMetrics metrics;
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kEach; ++i) {
        metrics.record("svc", "Method", t % 2 ? "OK" : "INTERNAL", 0.001);
      }
    });
  }
  // Scrape while they record: Collect must be safe against record().
  for (int i = 0; i < 20; ++i) (void)metrics.Collect();
  for (auto& t : threads) t.join();
  auto families = metrics.Collect();
  auto* ok = find(families[0], {{"code", "OK"}});
  auto* internal = find(families[0], {{"code", "INTERNAL"}});
  ASSERT_NE(ok, nullptr);
  ASSERT_NE(internal, nullptr);
  EXPECT_EQ(ok->counter.value, kThreads / 2 * kEach);
  EXPECT_EQ(internal->counter.value, kThreads / 2 * kEach);
  EXPECT_EQ(families[1].metric.at(0).histogram.sample_count, std::uint64_t{kThreads * kEach});
}

TEST(ControlMetricsTest, WatchCountersAreExposed) {
  ControlMetrics metrics;
  metrics.watch.open = 3;
  metrics.watch.queued_bytes = 4096;
  metrics.watch.dropped_slow = 2;
  metrics.watch.refused = 1;
  auto families = metrics.Collect();
  ASSERT_EQ(families.size(), 9u);
  EXPECT_EQ(families[2].name, "reactord_control_watchers");
  EXPECT_EQ(families[2].metric.at(0).gauge.value, 3.0);
  EXPECT_EQ(families[3].name, "reactord_control_watch_queued_bytes");
  EXPECT_EQ(families[3].metric.at(0).gauge.value, 4096.0);
  EXPECT_EQ(families[4].name, "reactord_control_watchers_ended_total");
  ASSERT_NE(find(families[4], {{"reason", "slow"}}), nullptr);
  EXPECT_EQ(find(families[4], {{"reason", "slow"}})->counter.value, 2.0);
  EXPECT_EQ(find(families[4], {{"reason", "total"}})->counter.value, 0.0);
  EXPECT_EQ(find(families[4], {{"reason", "refused"}})->counter.value, 1.0);
}

}  // namespace
}  // namespace reactord::metrics

namespace reactord::metrics {
namespace {

// The control port's HTTP/2 guard (server/h2_guard/h2_guard.h) is visible: its open connections,
// the GOAWAYs it sent by reason, the connections it refused and its backpressure pauses.
TEST(ControlMetricsTest, H2GuardFamilies) {
  ControlMetrics metrics;
  metrics.h2guard.open = 2;
  metrics.h2guard.rst_rate = 3;
  metrics.h2guard.rejected_limit = 4;
  metrics.h2guard.backpressure_pauses = 5;
  auto families = metrics.Collect();
  ASSERT_EQ(families.size(), 9u);
  EXPECT_EQ(families[5].name, "reactord_control_h2_connections");
  EXPECT_EQ(families[5].metric.at(0).gauge.value, 2.0);
  EXPECT_EQ(families[6].name, "reactord_control_h2_violations_total");
  const auto* rst = find(families[6], {{"reason", "rst_rate"}});
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->counter.value, 3.0);
  EXPECT_EQ(families[7].name, "reactord_control_h2_rejected_total");
  const auto* limit = find(families[7], {{"reason", "limit"}});
  ASSERT_NE(limit, nullptr);
  EXPECT_EQ(limit->counter.value, 4.0);
  EXPECT_EQ(families[8].name, "reactord_control_h2_backpressure_pauses_total");
  EXPECT_EQ(families[8].metric.at(0).counter.value, 5.0);
}

}  // namespace
}  // namespace reactord::metrics
