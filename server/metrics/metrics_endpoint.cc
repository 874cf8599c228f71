#include "server/metrics/metrics_endpoint.h"

#include <stdexcept>

#include <civetweb.h>
#include <prometheus/exposer.h>

#include "reactor/socket_address.h"

namespace reactord::metrics {
namespace {

[[noreturn]] void bad_address(std::string_view text, const char* why) {
  throw std::invalid_argument("metrics listen address '" + std::string(text) + "': " + why +
                              " (expected host:port, e.g. 127.0.0.1:9464 or [::1]:0)");
}

}  // namespace

std::string ListenAddress::to_civetweb() const { return host + ":" + std::to_string(port); }

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

bool metrics_ipv6_supported() {
  return mg_check_feature(8) != 0;  // 8: "IPv6" in civetweb's feature bits
}

MetricsEndpoint::MetricsEndpoint(std::string_view listen, std::string path, HttpLimits limits)
    : path_(std::move(path)) {
  ListenAddress address = parse_listen_address(listen);
  host_ = address.host;
  if (address.host.front() == '[' && !metrics_ipv6_supported()) {
    // civetweb would say only "null context when constructing CivetServer".
    throw std::runtime_error("metrics: cannot listen on " + address.to_civetweb() +
                             ": this build's HTTP server (civetweb) has no IPv6 support; give "
                             "--metrics-listen an IPv4 address such as 127.0.0.1:9464");
  }
  std::vector<std::string> options = {
      "listening_ports",
      address.to_civetweb(),
      "num_threads",
      std::to_string(limits.threads),
      "request_timeout_ms",
      std::to_string(limits.request_timeout.count()),
      "enable_keep_alive",
      "no",
      // A closing connection does not wait for the peer to read the rest.
      "linger_timeout_ms",
      "0",
  };
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(std::move(options));
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics: cannot listen on " + address.to_civetweb() + ": " + e.what());
  }
  auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    throw std::runtime_error("metrics: no listening port after binding " + address.to_civetweb());
  }
  port_ = ports.front();
}

MetricsEndpoint::~MetricsEndpoint() { exposer_.reset(); }

void MetricsEndpoint::add(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(mutex_);
  exposer_->RegisterCollectable(collectable, path_);
  collectables_.push_back(std::move(collectable));
}

}  // namespace reactord::metrics
