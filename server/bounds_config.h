// The flags that bound what clients and operators' scripts can make reactord hold on the
// control plane and the metrics endpoint (docs/RELIABILITY.md lists every bound), parsed with
// the other flags. The control plane's go into its settings (Config::control: ControlSettings'
// watch, grpc and guard limits); the metrics endpoint's are BoundsConfig (config.bounds).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "reactor/clock.h"
#include "server/control_settings.h"

namespace reactord {

struct BoundsConfig {
  // --metrics-max-connections: connections open at once to the metrics HTTP server (one
  // thread on the reactor serves them all); over it a new connection gets 503 and is closed.
  std::size_t metrics_max_connections = 32;
  // --metrics-request-timeout: a metrics request whose head is not complete this long after
  // its first byte (or a fresh connection without one), or an answer that makes no progress
  // this long, closes the connection.
  reactor::Duration metrics_request_timeout = std::chrono::seconds(5);
};

// Registers the flags (add(flag, value, help) as parse_config does) with their defaults as
// text in raw; convert_bounds turns raw into *out and *control's bounds (nothing changed on an
// error), or returns one error line. Any thread.
struct RawBounds {
  std::string control_max_watchers, watch_buffer_bytes, watch_total_bytes, control_threads, control_memory,
      control_max_message_bytes, metrics_max_connections, metrics_request_timeout, control_max_connections,
      control_max_connections_per_peer;
};
void add_bound_flags(const std::function<void(const std::string&, std::string&, const std::string&)>& add,
                     RawBounds& raw);
std::optional<std::string> convert_bounds(const RawBounds& raw, BoundsConfig* out,
                                          control::ControlSettings* control);

}  // namespace reactord
