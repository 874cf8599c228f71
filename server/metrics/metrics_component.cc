#include "server/metrics/metrics_component.h"

#include <spdlog/spdlog.h>

#include "server/bind_check.h"
#include "server/metrics/build_info.h"
#include "server/metrics/connection_duration.h"
#include "server/metrics/process_collector.h"
#include "server/metrics/server_collector.h"
#include "server/server.h"

namespace reactord::metrics {

MetricsComponent::MetricsComponent(std::shared_ptr<ControlMetrics> control) : control_(std::move(control)) {}

MetricsComponent::~MetricsComponent() = default;

void MetricsComponent::prepare(const Server& server) {
  if (auto problem = bind_problem("--metrics-listen", server.config().metrics_listen)) {
    throw StartError(*problem);
  }
}

void MetricsComponent::start(Server& server) {
  const BoundsConfig& bounds = server.config().bounds;
  HttpLimits limits;
  limits.max_connections = bounds.metrics_max_connections;
  limits.request_timeout = bounds.metrics_request_timeout;
  auto endpoint =
      std::make_unique<MetricsEndpoint>(server.config().metrics_listen.to_string(), "/metrics", limits);
  durations_ = std::make_shared<ConnectionDurationObserver>(server.loop_count());
  endpoint->add(std::make_shared<BuildInfoCollector>());
  endpoint->add(std::make_shared<ProcessCollector>());
  endpoint->add(std::make_shared<ServerCollector>(server, durations_));
  if (control_) endpoint->add(control_);
  observer_id_ = server.add_observer(durations_);
  server_ = &server;
  port_ = endpoint->port();
  spdlog::info("metrics listening on http://{}:{}{}", endpoint->host(), port_, endpoint->path());
  endpoint_ = std::move(endpoint);
}

void MetricsComponent::stop() {
  if (server_ != nullptr && observer_id_ != 0) server_->remove_observer(observer_id_);
  // Waits for a scrape in progress; afterwards nothing reads the Server.
  endpoint_.reset();
  server_ = nullptr;
}

}  // namespace reactord::metrics
