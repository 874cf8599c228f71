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
  // The control port's HTTP/2 guard (server/h2_guard/h2_guard.h).
  auto guard_open = make_family("reactord_control_h2_connections",
                                "Control-port connections open through the HTTP/2 guard.", MetricType::Gauge);
  add_gauge(guard_open, static_cast<double>(h2guard.open.load(std::memory_order_relaxed)), {});
  auto guard_closed = make_family(
      "reactord_control_h2_violations_total",
      "Control-port connections ended by the HTTP/2 guard with a GOAWAY: frame_size (FRAME_SIZE_ERROR), "
      "header_block, rst_rate (rapid reset), ping_rate, settings_rate, streams (ENHANCE_YOUR_CALM), protocol "
      "(PROTOCOL_ERROR).",
      MetricType::Counter);
  const std::pair<const char*, const std::atomic<std::uint64_t>*> reasons[] = {
      {"frame_size", &h2guard.frame_size},
      {"header_block", &h2guard.header_block},
      {"rst_rate", &h2guard.rst_rate},
      {"ping_rate", &h2guard.ping_rate},
      {"settings_rate", &h2guard.settings_rate},
      {"streams", &h2guard.streams},
      {"protocol", &h2guard.protocol}};
  for (const auto& [reason, value] : reasons) {
    add_counter(guard_closed, static_cast<double>(value->load(std::memory_order_relaxed)),
                {{"reason", reason}});
  }
  auto guard_rejected = make_family(
      "reactord_control_h2_rejected_total",
      "Control-port connections closed at accept: limit = --control-max-connections(-per-peer), error = no "
      "socketpair (fds), tls_handshake = a TLS handshake failed or timed out (TLS control port).",
      MetricType::Counter);
  add_counter(guard_rejected, static_cast<double>(h2guard.rejected_limit.load(std::memory_order_relaxed)),
              {{"reason", "limit"}});
  add_counter(guard_rejected, static_cast<double>(h2guard.rejected_error.load(std::memory_order_relaxed)),
              {{"reason", "error"}});
  add_counter(guard_rejected, static_cast<double>(h2guard.rejected_tls.load(std::memory_order_relaxed)),
              {{"reason", "tls_handshake"}});
  auto guard_paused = make_family("reactord_control_h2_backpressure_pauses_total",
                                  "Times the HTTP/2 guard stopped reading from a control client that did not "
                                  "read its answers (or outran gRPC).",
                                  MetricType::Counter);
  add_counter(guard_paused, static_cast<double>(h2guard.backpressure_pauses.load(std::memory_order_relaxed)),
              {});
  return {std::move(requests),     std::move(duration),       std::move(watchers),
          std::move(queued),       std::move(ended),          std::move(guard_open),
          std::move(guard_closed), std::move(guard_rejected), std::move(guard_paused)};
}

}  // namespace reactord::metrics
