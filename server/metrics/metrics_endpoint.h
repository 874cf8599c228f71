// The HTTP endpoint Prometheus scrapes: prometheus-cpp's pull Exposer (civetweb) on one
// address, serving every registered collector at one path.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>

namespace prometheus {
class Exposer;
}

namespace reactord::metrics {

// "host:port" as given to --metrics-listen, checked. host is an IPv4 literal, "[IPv6]" or
// "localhost"; port is 0..65535 (0 = any free port).
struct ListenAddress {
  std::string host;
  int port = 0;
  // The civetweb form ("127.0.0.1:9464", "[::1]:0").
  std::string to_civetweb() const;
};
// Throws std::invalid_argument with a message that quotes the bad text. Any thread.
ListenAddress parse_listen_address(std::string_view text);

// How the HTTP server (civetweb: one worker thread per connection) is bounded, so that idle or
// slow-loris connections cannot keep a scrape waiting: enough workers that a few held
// connections leave free ones, keep-alive off (a connection serves one request, then closes),
// and a deadline for a whole request (civetweb's request_timeout_ms counts from the first
// byte awaited, not per read), after which the connection is closed. --metrics-threads,
// --metrics-request-timeout.
struct HttpLimits {
  std::size_t threads = 8;
  std::chrono::milliseconds request_timeout{5000};
};

// Whether the HTTP server was built with IPv6 (Debian 12's civetweb is not). Any thread.
bool metrics_ipv6_supported();

class MetricsEndpoint {
 public:
  // Binds and starts serving (civetweb starts its own threads). Throws std::invalid_argument
  // for a malformed address and std::runtime_error when the address cannot be bound, or is
  // IPv6 and the HTTP server has no IPv6. Any thread.
  explicit MetricsEndpoint(std::string_view listen, std::string path = "/metrics", HttpLimits limits = {});
  // Stops the HTTP threads (civetweb takes about 2 s), then drops the collectors: once this
  // returns no Collect() is running or will run. Any thread, but not from inside Collect().
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Serve `collectable` from now on; the endpoint keeps it alive. Any thread.
  void add(std::shared_ptr<prometheus::Collectable> collectable);

  // The bound port (the real one when asked for port 0). Any thread.
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& path() const { return path_; }

 private:
  std::string host_;
  std::string path_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  // Declared last: destroyed first, so the HTTP threads stop before the collectors go.
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace reactord::metrics
