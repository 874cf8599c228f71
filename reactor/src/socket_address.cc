// SocketAddress: parsing and printing of "host:port" / "[v6]:port", getaddrinfo resolution,
// getsockname/getpeername.
#include "reactor/socket_address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace reactor {
namespace {

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// Splits "host:port" or "[host]:port" into its parts. bracketed tells whether the host was
// written in brackets (an IPv6 literal).
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  bool bracketed = false;
};

std::optional<HostPort> split_host_port(std::string_view text, std::string* error) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      set_error(error, "missing ']' in \"" + std::string(text) + "\"");
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      set_error(error, "expected \":port\" after ']' in \"" + std::string(text) + "\"");
      return std::nullopt;
    }
    port_text = rest.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      set_error(error, "expected \"host:port\", got \"" + std::string(text) + "\"");
      return std::nullopt;
    }
    if (text.find(':') != colon) {
      set_error(error,
                "an IPv6 address needs brackets: \"[" + std::string(text.substr(0, colon)) + "]:port\"");
      return std::nullopt;
    }
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) {
    set_error(error, "empty host in \"" + std::string(text) + "\"");
    return std::nullopt;
  }
  unsigned value = 0;
  const auto* begin = port_text.data();
  const auto* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (port_text.empty() || ec != std::errc() || ptr != end || value > 65535 ||
      !std::all_of(begin, end, [](char c) { return c >= '0' && c <= '9'; })) {
    set_error(error, "bad port \"" + std::string(port_text) + "\" (expected 0..65535)");
    return std::nullopt;
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

// Numeric IPv6 with an optional "%scope" (interface name or index).
bool parse_ipv6(const std::string& host, sockaddr_in6* sin6) {
  std::string addr = host;
  std::string scope;
  if (const auto pct = host.find('%'); pct != std::string::npos) {
    addr = host.substr(0, pct);
    scope = host.substr(pct + 1);
    if (scope.empty()) return false;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &sin6->sin6_addr) != 1) return false;
  if (!scope.empty()) {
    unsigned index = if_nametoindex(scope.c_str());
    if (index == 0) {
      const auto [ptr, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), index);
      if (ec != std::errc() || ptr != scope.data() + scope.size()) return false;
    }
    sin6->sin6_scope_id = index;
  }
  return true;
}

}  // namespace

SocketAddress::SocketAddress(const sockaddr* addr, socklen_t len) {
  if (addr == nullptr || len == 0) return;
  len_ = std::min<socklen_t>(len, sizeof(storage_));
  std::memcpy(&storage_, addr, len_);
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text, std::string* error) {
  const auto hp = split_host_port(text, error);
  if (!hp) return std::nullopt;
  if (!hp->bracketed) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(hp->port);
    if (inet_pton(AF_INET, hp->host.c_str(), &sin.sin_addr) != 1) {
      set_error(error, "not a numeric IPv4 address: \"" + hp->host + "\"");
      return std::nullopt;
    }
    return SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(hp->port);
  if (!parse_ipv6(hp->host, &sin6)) {
    set_error(error, "not a numeric IPv6 address: \"" + hp->host + "\"");
    return std::nullopt;
  }
  return SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6));
}

std::optional<SocketAddress> SocketAddress::resolve(std::string_view host_port, std::string* error) {
  if (auto numeric = parse(host_port, nullptr)) return numeric;
  const auto hp = split_host_port(host_port, error);
  if (!hp) return std::nullopt;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(hp->port);
  const int rc = getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    set_error(error, "cannot resolve \"" + hp->host + "\": " + gai_strerror(rc));
    return std::nullopt;
  }
  std::optional<SocketAddress> out;
  // Prefer the first IPv4 or IPv6 answer, in the resolver's order (RFC 6724).
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
      out = SocketAddress(ai->ai_addr, ai->ai_addrlen);
      break;
    }
  }
  freeaddrinfo(result);
  if (!out) set_error(error, "no IPv4 or IPv6 address for \"" + hp->host + "\"");
  return out;
}

SocketAddress SocketAddress::ipv4_loopback(std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
}

SocketAddress SocketAddress::ipv6_loopback(std::uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  sin6.sin6_addr = in6addr_loopback;
  return SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6));
}

SocketAddress SocketAddress::local_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress(reinterpret_cast<const sockaddr*>(&ss), len);
}

SocketAddress SocketAddress::peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress(reinterpret_cast<const sockaddr*>(&ss), len);
}

std::uint16_t SocketAddress::port() const {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

void SocketAddress::set_port(std::uint16_t port) {
  switch (family()) {
    case AF_INET:
      reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
      break;
    case AF_INET6:
      reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
      break;
    default:
      break;
  }
}

std::string SocketAddress::host() const {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage_);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
    return text;
  }
  if (family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
    std::string out = text;
    if (sin6->sin6_scope_id != 0) out += "%" + std::to_string(sin6->sin6_scope_id);
    return out;
  }
  return "(unspecified)";
}

std::string SocketAddress::to_string() const {
  if (family() == AF_INET) return host() + ":" + std::to_string(port());
  if (family() == AF_INET6) return "[" + host() + "]:" + std::to_string(port());
  return "(unspecified)";
}

bool SocketAddress::is_loopback() const {
  if (family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage_);
    return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
  }
  if (family() == AF_INET6) {
    const auto* a = &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;  // ::ffff:127.x.y.z
  }
  return false;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(a.get());
    const auto* y = reinterpret_cast<const sockaddr_in*>(b.get());
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a.get());
    const auto* y = reinterpret_cast<const sockaddr_in6*>(b.get());
    return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
  }
  return a.length() == b.length();  // both unspecified
}

}  // namespace reactor
