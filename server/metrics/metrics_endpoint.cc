#include "server/metrics/metrics_endpoint.h"

#include <stdexcept>

#include <prometheus/text_serializer.h>

#include "server/metrics/family_builder.h"

#include "reactor/socket_address.h"

namespace reactord::metrics {
namespace {

[[noreturn]] void bad_address(std::string_view text, const char* why) {
  throw std::invalid_argument("metrics listen address '" + std::string(text) + "': " + why +
                              " (expected host:port, e.g. 127.0.0.1:9464 or [::1]:0)");
}

// The metrics HTTP server's own bounds at work, on the page it serves.
class HttpCollector final : public prometheus::Collectable {
 public:
  explicit HttpCollector(const http::HttpServer& server) : server_(server) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const http::HttpStats s = server_.stats();
    Families out;
    push_gauge(out, "reactord_metrics_http_connections", "Connections open to the metrics HTTP server",
               static_cast<double>(s.connections_open));
    push_counters(out, "reactord_metrics_http_refused_total",
                  "Connections to the metrics HTTP server refused or closed by its bounds", "reason",
                  {{"max_connections", static_cast<double>(s.rejected_max_connections)},
                   {"evicted", static_cast<double>(s.evicted)},
                   {"request_timeout", static_cast<double>(s.request_timeouts)},
                   {"write_timeout", static_cast<double>(s.write_timeouts)},
                   {"bad_request", static_cast<double>(s.bad_requests)}});
    return out;
  }

 private:
  const http::HttpServer& server_;
};

}  // namespace

std::string ListenAddress::to_string() const { return host + ":" + std::to_string(port); }

ListenAddress parse_listen_address(std::string_view text) {
  // The address grammar is the one of every other listen flag (SocketAddress::parse), plus
  // "localhost" for 127.0.0.1.
  std::string numeric(text);
  constexpr std::string_view kLocalhost = "localhost:";
  if (text.substr(0, kLocalhost.size()) == kLocalhost) {
    numeric = "127.0.0.1:" + std::string(text.substr(kLocalhost.size()));
  }
  std::string error;
  const auto parsed = reactor::SocketAddress::parse(numeric, &error);
  if (!parsed) bad_address(text, error.empty() ? "not host:port" : error.c_str());
  ListenAddress address;
  address.port = parsed->port();
  address.host = parsed->is_ipv6() ? "[" + parsed->host() + "]" : parsed->host();
  return address;
}

bool metrics_ipv6_supported() { return true; }

MetricsEndpoint::MetricsEndpoint(std::string_view listen, std::string path, HttpLimits limits)
    : path_(std::move(path)) {
  ListenAddress address = parse_listen_address(listen);
  host_ = address.host;
  std::string error;
  auto socket_address = reactor::SocketAddress::parse(address.to_string(), &error);
  if (!socket_address)
    throw std::invalid_argument("metrics listen address '" + std::string(listen) + "': " + error);
  http_ = std::make_unique<http::HttpServer>("metrics", *socket_address, limits);
  port_ = http_->port();
  http_->set_cb(path_, [this](const http::HttpRequest&) {
    return http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", render(), {}};
  });
  add(std::make_shared<HttpCollector>(*http_));
  http_->start();
}

MetricsEndpoint::~MetricsEndpoint() { http_.reset(); }

void MetricsEndpoint::add(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(mutex_);
  collectables_.push_back(std::move(collectable));
}

std::string MetricsEndpoint::render() {
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  {
    std::lock_guard lock(mutex_);
    collectables = collectables_;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables) {
    for (auto& family : collectable->Collect()) families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace reactord::metrics
