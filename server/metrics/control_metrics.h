// Metrics of the gRPC control plane: requests by service, method and status code, and their
// latency. No gRPC dependency here — the control plane's interceptor
// (server/control/control_interceptor.h) calls record() when an RPC finishes, through
// ControlPlaneCounters (server/control_plane_counters.h), which is all the control plane knows
// of this class; main.cc hands it over.
//
// Exposed as
//   reactord_control_requests_total{service,method,code}        counter
//   reactord_control_request_duration_seconds{service,method}   histogram
//   reactord_control_watchers, reactord_control_watch_queued_bytes   gauges
//   reactord_control_watchers_ended_total{reason}                     counter (slow, total, refused)
//   reactord_control_h2_connections, reactord_control_h2_violations_total{reason},
//   reactord_control_h2_rejected_total{reason}, reactord_control_h2_backpressure_pauses_total
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "server/control_plane_counters.h"

namespace reactord::metrics {

class ControlMetrics : public prometheus::Collectable, public ControlPlaneCounters {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf follows).
  static constexpr std::array<double, 12> kLatencyBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                            0.01,   0.025,   0.05,   0.1,   0.5,    2.5};
  // Label sets are bounded: past this many distinct (service, method) pairs, further pairs are
  // counted under service="other", method="other" (a misbehaving client cannot grow the scrape).
  static constexpr std::size_t kMaxMethods = 128;

  // One finished RPC. `code` is the gRPC status name ("OK", "NOT_FOUND", ...); `seconds` the
  // time from arrival to the status being sent. A mutex is fine here: the control plane
  // handles a few requests per second, never the echo path. Any thread.
  void record(std::string_view service, std::string_view method, std::string_view code,
              double seconds) override;
  // (watch, h2guard: the counters of ControlPlaneCounters, written by the control plane.)

  // Called by the metrics HTTP server's thread (a scrape). Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Latency {
    std::array<std::uint64_t, kLatencyBounds.size() + 1> buckets{};  // per bucket, last = +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  using MethodKey = std::tuple<std::string, std::string>;                // service, method
  using RequestKey = std::tuple<std::string, std::string, std::string>;  // + code

  mutable std::mutex mutex_;
  std::map<MethodKey, Latency, std::less<>> latency_;
  std::map<RequestKey, std::uint64_t, std::less<>> requests_;
};

}  // namespace reactord::metrics
