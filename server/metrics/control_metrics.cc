#include "server/metrics/control_metrics.h"

#include <algorithm>
#include <limits>

#include "server/metrics/family_builder.h"

namespace reactord::metrics {

void ControlMetrics::record(std::string_view service, std::string_view method, std::string_view code,
                            double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // NaN or a clock step backwards
  std::size_t bucket = static_cast<std::size_t>(
      std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), seconds) - kLatencyBounds.begin());

  std::lock_guard lock(mutex_);
  MethodKey key{std::string(service), std::string(method)};
  auto it = latency_.find(key);
  if (it == latency_.end()) {
    if (latency_.size() >= kMaxMethods) key = MethodKey{"other", "other"};
    it = latency_.try_emplace(std::move(key)).first;
  }
  Latency& latency = it->second;
  ++latency.buckets[bucket];
  latency.sum += seconds;
  ++latency.count;
  const auto& [svc, meth] = it->first;
  ++requests_[RequestKey{svc, meth, std::string(code)}];
}

std::vector<prometheus::MetricFamily> ControlMetrics::Collect() const {
  using prometheus::MetricType;
  auto requests =
      make_family("reactord_control_requests_total",
                  "Control-plane RPCs finished, by service, method and status code.", MetricType::Counter);
  auto duration =
      make_family("reactord_control_request_duration_seconds",
                  "Control-plane RPC latency, from arrival to status, in seconds.", MetricType::Histogram);
  std::lock_guard lock(mutex_);
  for (const auto& [key, count] : requests_) {
    const auto& [service, method, code] = key;
    add_counter(requests, static_cast<double>(count),
                {{"service", service}, {"method", method}, {"code", code}});
  }
  for (const auto& [key, latency] : latency_) {
    const auto& [service, method] = key;
    prometheus::ClientMetric::Histogram histogram;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
      cumulative += latency.buckets[i];
      histogram.bucket.push_back({cumulative, kLatencyBounds[i]});
    }
    cumulative += latency.buckets.back();
    histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    histogram.sample_count = cumulative;
    histogram.sample_sum = latency.sum;
    add_histogram(duration, std::move(histogram), {{"service", service}, {"method", method}});
  }
  auto watchers =
      make_family("reactord_control_watchers", "WatchConnections streams open now.", MetricType::Gauge);
  add_gauge(watchers, static_cast<double>(watch.open.load(std::memory_order_relaxed)), {});
  auto queued = make_family("reactord_control_watch_queued_bytes",
                            "Bytes queued for WatchConnections streams, not yet written.", MetricType::Gauge);
  add_gauge(queued, static_cast<double>(watch.queued_bytes.load(std::memory_order_relaxed)), {});
  auto ended =
      make_family("reactord_control_watchers_ended_total",
                  "WatchConnections streams ended or refused by a bound (RESOURCE_EXHAUSTED): slow = its "
                  "queue passed --watch-buffer-bytes, total = all queues passed --watch-total-bytes, "
                  "refused = --control-max-watchers were open.",
                  MetricType::Counter);
  add_counter(ended, static_cast<double>(watch.dropped_slow.load(std::memory_order_relaxed)),
              {{"reason", "slow"}});
  add_counter(ended, static_cast<double>(watch.dropped_total.load(std::memory_order_relaxed)),
              {{"reason", "total"}});
  add_counter(ended, static_cast<double>(watch.refused.load(std::memory_order_relaxed)),
              {{"reason", "refused"}});
  return {std::move(requests), std::move(duration), std::move(watchers), std::move(queued), std::move(ended)};
}

}  // namespace reactord::metrics
