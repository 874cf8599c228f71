// The HTTP endpoint Prometheus scrapes: our own HTTP server (server/http, evhttp-like: one
// thread on the reactor, bounded) on one address — IPv4 or IPv6 — serving every registered
// collector at one path in the text format (prometheus::TextSerializer). prometheus-cpp's
// pull Exposer (civetweb) is no longer used.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>

#include "server/http/http_server.h"

namespace reactord::metrics {

// "host:port" as given to --metrics-listen, checked. host is an IPv4 literal, "[IPv6]" or
// "localhost"; port is 0..65535 (0 = any free port).
struct ListenAddress {
  std::string host;
  int port = 0;
  // "127.0.0.1:9464", "[::1]:0".
  std::string to_string() const;
};
// Throws std::invalid_argument with a message that quotes the bad text. Any thread.
ListenAddress parse_listen_address(std::string_view text);

// How the HTTP server is bounded (header size and lines, the request deadline from its first
// byte, the keep-alive idle timeout, connections at once): --metrics-request-timeout,
// --metrics-max-connections; docs/RELIABILITY.md lists them.
using HttpLimits = http::HttpLimits;

// Whether --metrics-listen may be IPv6: always, since our own HTTP server replaced civetweb
// (which Debian 12 builds without IPv6). Any thread.
bool metrics_ipv6_supported();

class MetricsEndpoint {
 public:
  // Binds and starts serving (on the HTTP server's own thread). Throws std::invalid_argument
  // for a malformed address and std::runtime_error when the address cannot be bound. Any thread.
  explicit MetricsEndpoint(std::string_view listen, std::string path = "/metrics", HttpLimits limits = {});
  // Stops the HTTP thread, then drops the collectors: once this returns no Collect() is
  // running or will run. Any thread, but not from inside Collect().
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Serve `collectable` from now on; the endpoint keeps it alive. Any thread.
  void add(std::shared_ptr<prometheus::Collectable> collectable);

  // The bound port (the real one when asked for port 0). Any thread.
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& path() const { return path_; }
  // The HTTP server's counters (rejected connections, timeouts). Any thread.
  http::HttpStats http_stats() const { return http_->stats(); }

 private:
  // The page: every collectable's families, serialized. The HTTP thread.
  std::string render();

  std::string host_;
  std::string path_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  // Declared last: destroyed first, so the HTTP thread stops before the collectors go.
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace reactord::metrics
