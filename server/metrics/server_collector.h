// ServerCollector: the reactord_* connection, byte, listener and reactor metrics, built at
// scrape time. Two sources, so the echo path never waits for a scrape:
//   - LoopCounters (relaxed atomics the loops bump as they work): read directly;
//   - what only the loop thread may read (EventBase::counts()/stats(), buffered output, the
//     listener): one post() per loop, answered with a copy, waited for up to a deadline. A loop
//     that does not answer in time (a callback stuck) is left out of that scrape's reactor
//     metrics and counted in reactord_metrics_loop_timeouts_total.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "server/metrics/connection_duration.h"

namespace reactord {
class Server;
}

namespace reactord::metrics {

class ServerCollector : public prometheus::Collectable {
 public:
  // `server` must be started and must outlive every Collect() (MetricsComponent stops the
  // endpoint before the loops go away). `durations` may be null (no duration histogram).
  // Any thread.
  ServerCollector(Server& server, std::shared_ptr<const ConnectionDurationObserver> durations,
                  std::chrono::milliseconds loop_deadline = std::chrono::milliseconds(1000));

  // Called by the metrics HTTP server's thread (a scrape). Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Server& server_;
  std::shared_ptr<const ConnectionDurationObserver> durations_;
  std::chrono::milliseconds loop_deadline_;
  mutable std::atomic<std::uint64_t> loop_timeouts_{0};
};

}  // namespace reactord::metrics
