#include "server/metrics/control_metrics.h"

#include <algorithm>

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
  Families out;
  {
    auto& requests = out.emplace_back(
        make_family("reactord_control_requests_total",
                    "Control-plane RPCs finished, by service, method and status code.", MetricType::Counter));
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
      const auto& [service, method, code] = key;
      add_counter(requests, static_cast<double>(count),
                  {{"service", service}, {"method", method}, {"code", code}});
    }
    auto& duration = out.emplace_back(
        make_family("reactord_control_request_duration_seconds",
                    "Control-plane RPC latency, from arrival to status, in seconds.", MetricType::Histogram));
    for (const auto& [key, latency] : latency_) {
      const auto& [service, method] = key;
      add_histogram(duration,
                    cumulative_histogram(
                        latency.buckets, [](std::size_t i) { return kLatencyBounds[i]; }, latency.sum),
                    {{"service", service}, {"method", method}});
    }
  }
  const auto get = [](const auto& counter) {
    return static_cast<double>(counter.load(std::memory_order_relaxed));
  };
  push_gauge(out, "reactord_control_watchers", "WatchConnections streams open now.", get(watch.open));
  push_gauge(out, "reactord_control_watch_queued_bytes",
             "Bytes queued for WatchConnections streams, not yet written.", get(watch.queued_bytes));
  push_counters(out, "reactord_control_watchers_ended_total",
                "WatchConnections streams ended or refused by a bound (RESOURCE_EXHAUSTED): slow = its "
                "queue passed --watch-buffer-bytes, total = all queues passed --watch-total-bytes, "
                "refused = --control-max-watchers were open.",
                "reason",
                {{"slow", get(watch.dropped_slow)},
                 {"total", get(watch.dropped_total)},
                 {"refused", get(watch.refused)}});
  // The control port's HTTP/2 guard (server/h2_guard/h2_guard.h).
  push_gauge(out, "reactord_control_h2_connections",
             "Control-port connections open through the HTTP/2 guard.", get(h2guard.open));
  push_counters(
      out, "reactord_control_h2_violations_total",
      "Control-port connections ended by the HTTP/2 guard with a GOAWAY: frame_size (FRAME_SIZE_ERROR), "
      "header_block, rst_rate (rapid reset), ping_rate, settings_rate, streams (ENHANCE_YOUR_CALM), protocol "
      "(PROTOCOL_ERROR).",
      "reason",
      {{"frame_size", get(h2guard.frame_size)},
       {"header_block", get(h2guard.header_block)},
       {"rst_rate", get(h2guard.rst_rate)},
       {"ping_rate", get(h2guard.ping_rate)},
       {"settings_rate", get(h2guard.settings_rate)},
       {"streams", get(h2guard.streams)},
       {"protocol", get(h2guard.protocol)}});
  push_counters(
      out, "reactord_control_h2_rejected_total",
      "Control-port connections closed at accept: limit = --control-max-connections(-per-peer), error = no "
      "socketpair (fds), tls_handshake = a TLS handshake failed or timed out (TLS control port).",
      "reason",
      {{"limit", get(h2guard.rejected_limit)},
       {"error", get(h2guard.rejected_error)},
       {"tls_handshake", get(h2guard.rejected_tls)}});
  push_counter(out, "reactord_control_h2_backpressure_pauses_total",
               "Times the HTTP/2 guard stopped reading from a control client that did not "
               "read its answers (or outran gRPC).",
               get(h2guard.backpressure_pauses));
  return out;
}

}  // namespace reactord::metrics
