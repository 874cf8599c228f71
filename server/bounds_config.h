// BoundsConfig: the flags that bound what clients and operators' scripts can make reactord
// hold on the control plane and the metrics endpoint (docs/RELIABILITY.md lists every bound).
// Part of Config (config.bounds); parsed with the other flags.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "reactor/clock.h"

namespace reactord {

struct BoundsConfig {
  // --control-max-watchers: WatchConnections streams open at once (more: RESOURCE_EXHAUSTED).
  // Each holds a control-plane thread: keep it well under --control-threads.
  std::size_t control_max_watchers = 16;
  // --watch-buffer-bytes: bytes queued for one watch stream; past it the stream ends with
  // RESOURCE_EXHAUSTED.
  std::size_t watch_buffer_bytes = std::size_t{1} << 20;
  // --watch-total-bytes: bytes queued for all watch streams together.
  std::size_t watch_total_bytes = std::size_t{32} << 20;
  // --control-threads / --control-memory: the gRPC server's resource quota.
  std::size_t control_threads = 32;
  std::size_t control_memory = std::size_t{64} << 20;
  // --control-max-message-bytes: largest request message.
  std::size_t control_max_message_bytes = std::size_t{1} << 20;
  // --control-max-connections / --control-max-connections-per-peer: control connections open
  // at once through the HTTP/2 guard, in total and from one client address.
  std::size_t control_max_connections = 256;
  std::size_t control_max_connections_per_peer = 64;
  // --metrics-max-connections: connections open at once to the metrics HTTP server (one
  // thread on the reactor serves them all); over it a new connection gets 503 and is closed.
  std::size_t metrics_max_connections = 32;
  // --metrics-request-timeout: a metrics request whose head is not complete this long after
  // its first byte (or a fresh connection without one), or an answer that makes no progress
  // this long, closes the connection.
  reactor::Duration metrics_request_timeout = std::chrono::seconds(5);
};

// Registers the flags (add(flag, value, help) as parse_config does) with their defaults as
// text in raw; convert_bounds turns raw into *out, or returns one error line. Any thread.
struct RawBounds {
  std::string control_max_watchers, watch_buffer_bytes, watch_total_bytes, control_threads, control_memory,
      control_max_message_bytes, metrics_max_connections, metrics_request_timeout, control_max_connections,
      control_max_connections_per_peer;
};
void add_bound_flags(const std::function<void(const std::string&, std::string&, const std::string&)>& add,
                     RawBounds& raw);
std::optional<std::string> convert_bounds(const RawBounds& raw, BoundsConfig* out);

}  // namespace reactord
