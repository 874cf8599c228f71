#include "server/metrics/metrics_endpoint.h"

#include <arpa/inet.h>

#include <charconv>
#include <stdexcept>

#include <civetweb.h>
#include <prometheus/exposer.h>

namespace reactord::metrics {
namespace {

[[noreturn]] void bad_address(std::string_view text, const char* why) {
  throw std::invalid_argument("metrics listen address '" + std::string(text) + "': " + why +
                              " (expected host:port, e.g. 127.0.0.1:9464 or [::1]:0)");
}

}  // namespace

std::string ListenAddress::to_civetweb() const { return host + ":" + std::to_string(port); }

ListenAddress parse_listen_address(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) bad_address(text, "no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);

  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    bad_address(text, "port must be a number from 0 to 65535");
  }

  ListenAddress address;
  address.port = port;
  if (host == "localhost") {
    address.host = "127.0.0.1";
  } else if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr v6{};
    std::string inner(host.substr(1, host.size() - 2));
    if (inet_pton(AF_INET6, inner.c_str(), &v6) != 1) bad_address(text, "not an IPv6 address");
    address.host = std::string(host);
  } else {
    in_addr v4{};
    std::string v4_text(host);
    if (host.empty() || inet_pton(AF_INET, v4_text.c_str(), &v4) != 1) {
      bad_address(text, "host must be an IPv4 address, [IPv6] or localhost");
    }
    address.host = v4_text;
  }
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
