#include "server/bounds_config.h"

#include <charconv>

#include "server/config.h"
#include "units/units.h"

namespace reactord {

namespace {

bool count(const std::string& text, std::size_t lo, std::size_t hi, std::size_t* out) {
  std::size_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < lo || v > hi) {
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

void add_bound_flags(const std::function<void(const std::string&, std::string&, const std::string&)>& add,
                     RawBounds& raw) {
  const BoundsConfig d;
  const control::ControlSettings c;
  raw.control_max_watchers = std::to_string(c.watch.max_watchers);
  raw.watch_buffer_bytes = units::format_size(c.watch.buffer_bytes);
  raw.watch_total_bytes = units::format_size(c.watch.total_bytes);
  raw.control_threads = std::to_string(c.grpc.max_threads);
  raw.control_memory = units::format_size(c.grpc.memory_bytes);
  raw.control_max_message_bytes = units::format_size(c.grpc.max_receive_message_bytes);
  raw.metrics_max_connections = std::to_string(d.metrics_max_connections);
  raw.metrics_request_timeout = format_duration(d.metrics_request_timeout);
  add("control-max-watchers", raw.control_max_watchers, "WatchConnections streams open at once (1..10000)");
  add("watch-buffer-bytes", raw.watch_buffer_bytes,
      "Bytes queued for one watch stream; a slower one ends with RESOURCE_EXHAUSTED");
  add("watch-total-bytes", raw.watch_total_bytes, "Bytes queued for all watch streams together");
  add("control-threads", raw.control_threads, "Threads the gRPC control plane may run (4..1024)");
  add("control-memory", raw.control_memory, "Memory the gRPC control plane's buffers may take");
  add("control-max-message-bytes", raw.control_max_message_bytes, "Largest control-plane request message");
  raw.control_max_connections = std::to_string(c.guard.max_connections);
  raw.control_max_connections_per_peer = std::to_string(c.guard.max_connections_per_peer);
  add("control-max-connections", raw.control_max_connections,
      "Control-port connections open at once (1..10000); more are closed at accept");
  add("control-max-connections-per-peer", raw.control_max_connections_per_peer,
      "Control-port connections open at once from one client address (1..10000)");
  add("metrics-max-connections", raw.metrics_max_connections,
      "Metrics HTTP connections open at once (1..10000); more get 503 and are closed");
  add("metrics-request-timeout", raw.metrics_request_timeout,
      "Close a metrics connection whose request is not complete this long after its first byte (or whose "
      "answer makes no progress this long)");
}

std::optional<std::string> convert_bounds(const RawBounds& raw, BoundsConfig* out,
                                          control::ControlSettings* control) {
  BoundsConfig b;
  control::ControlSettings settings = *control;
  control::WatchLimits& watch = settings.watch;
  control::GrpcLimits& grpc = settings.grpc;
  h2guard::H2GuardLimits& guard = settings.guard;
  if (!count(raw.control_max_watchers, 1, 10000, &watch.max_watchers)) {
    return "invalid --control-max-watchers '" + raw.control_max_watchers +
           "': expected an integer from 1 to 10000";
  }
  auto size = [](const std::string& flag, const std::string& text, std::size_t min,
                 std::size_t* v) -> std::optional<std::string> {
    auto s = units::parse_size(text);
    if (!s) return units::flag_error("--" + flag, text, s.error);
    if (*s < min) return units::flag_error("--" + flag, text, "at least " + units::format_size(min));
    *v = static_cast<std::size_t>(*s);
    return std::nullopt;
  };
  if (auto e = size("watch-buffer-bytes", raw.watch_buffer_bytes, 4096, &watch.buffer_bytes)) return e;
  if (auto e = size("watch-total-bytes", raw.watch_total_bytes, 4096, &watch.total_bytes)) return e;
  if (!count(raw.control_threads, 4, 1024, &grpc.max_threads)) {
    return "invalid --control-threads '" + raw.control_threads + "': expected an integer from 4 to 1024";
  }
  if (watch.max_watchers + 4 > grpc.max_threads) {
    // Each watch stream holds a thread; health and the other RPCs need some left.
    return "--control-max-watchers " + std::to_string(watch.max_watchers) +
           " needs --control-threads of at least " + std::to_string(watch.max_watchers + 4) +
           " (each watch stream holds a thread)";
  }
  if (auto e = size("control-memory", raw.control_memory, 1 << 20, &grpc.memory_bytes)) return e;
  if (auto e = size("control-max-message-bytes", raw.control_max_message_bytes, 64 * 1024,
                    &grpc.max_receive_message_bytes)) {
    return e;
  }
  if (!count(raw.control_max_connections, 1, 10000, &guard.max_connections)) {
    return "invalid --control-max-connections '" + raw.control_max_connections +
           "': expected an integer from 1 to 10000";
  }
  if (!count(raw.control_max_connections_per_peer, 1, 10000, &guard.max_connections_per_peer)) {
    return "invalid --control-max-connections-per-peer '" + raw.control_max_connections_per_peer +
           "': expected an integer from 1 to 10000";
  }
  if (!count(raw.metrics_max_connections, 1, 10000, &b.metrics_max_connections)) {
    return "invalid --metrics-max-connections '" + raw.metrics_max_connections +
           "': expected an integer from 1 to 10000";
  }
  auto timeout = units::parse_duration(raw.metrics_request_timeout);
  if (!timeout) {
    return units::flag_error("--metrics-request-timeout", raw.metrics_request_timeout, timeout.error);
  }
  if (*timeout < std::chrono::milliseconds(100)) {
    return units::flag_error("--metrics-request-timeout", raw.metrics_request_timeout, "at least 100ms");
  }
  b.metrics_request_timeout = *timeout;
  *out = b;
  *control = std::move(settings);
  return std::nullopt;
}

}  // namespace reactord
