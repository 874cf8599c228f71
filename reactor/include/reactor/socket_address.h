// SocketAddress: an IPv4 or IPv6 socket address (sockaddr_storage), parsed from and printed as
// "host:port" / "[v6]:port". Any thread (a value type).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactor {

class SocketAddress {
 public:
  SocketAddress() = default;  // unspecified (family AF_UNSPEC)
  // Copies a sockaddr (AF_INET or AF_INET6) of the given length.
  SocketAddress(const sockaddr* addr, socklen_t len);

  // Parses a numeric "1.2.3.4:80", "[::1]:80", "0.0.0.0:0" (no name resolution). nullopt on
  // any error, with the reason in *error if given.
  static std::optional<SocketAddress> parse(std::string_view text, std::string* error = nullptr);
  // Like parse, but also resolves host names (getaddrinfo; blocks). For clients.
  static std::optional<SocketAddress> resolve(std::string_view host_port, std::string* error = nullptr);
  static SocketAddress ipv4_loopback(std::uint16_t port);
  static SocketAddress ipv6_loopback(std::uint16_t port);

  // The address bound to / connected from an fd (getsockname / getpeername).
  static SocketAddress local_of(int fd);
  static SocketAddress peer_of(int fd);

  int family() const { return storage_.ss_family; }
  bool is_ipv6() const { return family() == AF_INET6; }
  std::uint16_t port() const;
  void set_port(std::uint16_t port);
  // "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
  // "1.2.3.4" or "::1".
  std::string host() const;
  bool is_loopback() const;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return len_; }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b);

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace reactor
