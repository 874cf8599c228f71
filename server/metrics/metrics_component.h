// MetricsComponent: reactord's Prometheus exporter, attached to the Server like the control
// plane. start() binds --metrics-listen (port 0 = any free port; the bound address is logged:
// "metrics listening on http://127.0.0.1:PORT/metrics") and serves every collector; stop()
// stops the HTTP threads before the loops go away.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/component.h"
#include "server/metrics/control_metrics.h"
#include "server/metrics/metrics_endpoint.h"

namespace reactord::metrics {

class ConnectionDurationObserver;

class MetricsComponent : public Component {
 public:
  // `control`: where the control plane records its RPCs (shared with it; may be null).
  // Main thread.
  explicit MetricsComponent(std::shared_ptr<ControlMetrics> control = nullptr);
  ~MetricsComponent() override;

  std::string name() const override { return "metrics"; }
  // Checks that server.config().metrics_listen can be bound (StartError naming
  // --metrics-listen otherwise); binds nothing. Main thread.
  void prepare(const Server& server) override;
  // Binds server.config().metrics_listen. Throws std::exception with a clear message.
  // Main thread.
  void start(Server& server) override;
  // Stops serving. Main thread.
  void stop() override;

  // The bound port, 0 before start(). Any thread.
  int port() const { return port_; }

 private:
  std::shared_ptr<ControlMetrics> control_;
  std::shared_ptr<ConnectionDurationObserver> durations_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  Server* server_ = nullptr;
  std::uint64_t observer_id_ = 0;
  int port_ = 0;
};

}  // namespace reactord::metrics
