// ControlPlane: the gRPC control plane as a Server component. It serves reactord.v1.Inspect and
// reactord.v1.Control, grpc.health.v1.Health (the empty name and each service; NOT_SERVING
// while draining or stopping), reflection (grpc.reflection.v1 and v1alpha, open like health)
// and channelz (admin token, like Control).
//
// Security: binds 127.0.0.1 by default and refuses a non-loopback address unless a bearer
// token or client-certificate verification (mTLS) is configured. TLS when a certificate and
// key are given.
//
// No gRPC in this header (main.cc and tests include it cheaply).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/component.h"
#include "server/control_settings.h"
#include "server/service_values.h"

namespace grpc {
class Channel;
}

namespace reactord {
class ControlPlaneCounters;
}  // namespace reactord

namespace reactord::control {

// What a ControlPlane runs with: its settings (Config::control as parsed, or set by a test) and
// where it counts.
struct ControlOptions : ControlSettings {
  // Where every RPC's outcome and latency, the watch streams' and the HTTP/2 guard's counters
  // are recorded (the metrics exporter's ControlMetrics, which serves them); null = not
  // recorded.
  std::shared_ptr<ControlPlaneCounters> metrics;
};

struct ControlPlaneState;

class ControlPlane final : public Component {
 public:
  explicit ControlPlane(ControlOptions options);
  ~ControlPlane() override;

  std::string name() const override { return "control"; }
  // Checks the security rules, loads tokens and certificates (bounded reads, PEM parsed) and
  // checks the address can be bound; binds nothing. ConfigError / StartError (server.h) with
  // one line naming the flag. Routes gRPC's own log into spdlog (one line each). Main thread.
  void prepare(const Server& server) override;
  // Binds and starts serving (prepare() first if the Server did not). Throws with one clear
  // line on any problem. Main thread.
  void start(Server& server) override;
  // Ends watch streams, health NOT_SERVING, shuts the gRPC server down (2 s grace). Main thread.
  void stop() override;
  // Reload (Component::reload): the token files (control.admin_token, control.viewer_token),
  // swapped whole for calls that start after it (calls in flight finish with the set they
  // began with); the TLS files (control.tls, tls_reload.h): new handshakes get the new
  // certificate, open connections keep theirs. Any thread (Server::reload serialises).
  std::vector<ReloadItem> reload() override;

  // The bound port (after start; resolves port 0). Any thread.
  std::uint16_t port() const;

  // A channel to this control plane that skips the network (the status page's): calls go
  // through the same services, token checks and metrics. After start(). Any thread.
  std::shared_ptr<grpc::Channel> in_process_channel() const;

 private:
  ReloadItem reload_tls();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reactord::control
