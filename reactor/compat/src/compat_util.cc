// event2/util.h: socket options, socketpair, address parsing, string helpers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "event2/util.h"

extern "C" {

int evutil_make_socket_nonblocking(evutil_socket_t fd) {
  const int flags = ::fcntl(fd, F_GETFL, nullptr);
  if (flags < 0) return -1;
  if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
  return 0;
}

int evutil_make_socket_closeonexec(evutil_socket_t fd) {
  const int flags = ::fcntl(fd, F_GETFD, nullptr);
  if (flags < 0) return -1;
  if ((flags & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) return -1;
  return 0;
}

int evutil_make_listen_socket_reuseable(evutil_socket_t sock) {
  const int one = 1;
  return ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock) {
  const int one = 1;
  return ::setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

int evutil_make_listen_socket_ipv6only(evutil_socket_t sock) {
  const int one = 1;
  return ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
}

int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock) {
  const int one = 1;
  return ::setsockopt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one);
}

int evutil_closesocket(evutil_socket_t sock) { return ::close(sock); }

int evutil_socketpair(int family, int type, int protocol, evutil_socket_t fd[2]) {
  return ::socketpair(family, type, protocol, fd);
}

int evutil_parse_sockaddr_port(const char* ip_as_string, struct sockaddr* out, int* outlen) {
  // "[v6]:port", "[v6]", "v6", "v4:port", "v4"; port 0 when none is given. A port that is
  // given must be 1-65535, as in libevent ("1.2.3.4:0" is an error).
  if (ip_as_string == nullptr || out == nullptr || outlen == nullptr) return -1;
  std::string text = ip_as_string;
  std::string host;
  int port = 0;
  bool v6 = false;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return -1;
    host = text.substr(1, close - 1);
    v6 = true;
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return -1;
      char* end = nullptr;
      const long p = std::strtol(text.c_str() + close + 2, &end, 10);
      if (end == text.c_str() + close + 2 || *end != '\0' || p <= 0 || p > 65535) return -1;
      port = static_cast<int>(p);
    }
  } else {
    const auto first = text.find(':');
    const auto last = text.rfind(':');
    if (first != std::string::npos && first != last) {
      host = text;  // a bare IPv6 address
      v6 = true;
    } else if (first != std::string::npos) {
      host = text.substr(0, first);
      char* end = nullptr;
      const long p = std::strtol(text.c_str() + first + 1, &end, 10);
      if (end == text.c_str() + first + 1 || *end != '\0' || p <= 0 || p > 65535) return -1;
      port = static_cast<int>(p);
    } else {
      host = text;
    }
  }
  if (v6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &sin6.sin6_addr) != 1) return -1;
    if (static_cast<std::size_t>(*outlen) < sizeof sin6) return -1;
    std::memset(out, 0, static_cast<std::size_t>(*outlen));
    std::memcpy(out, &sin6, sizeof sin6);
    *outlen = sizeof sin6;
    return 0;
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) return -1;
  if (static_cast<std::size_t>(*outlen) < sizeof sin) return -1;
  std::memset(out, 0, static_cast<std::size_t>(*outlen));
  std::memcpy(out, &sin, sizeof sin);
  *outlen = sizeof sin;
  return 0;
}

const char* evutil_inet_ntop(int af, const void* src, char* dst, size_t len) {
  return ::inet_ntop(af, src, dst, static_cast<socklen_t>(len));
}

int evutil_inet_pton(int af, const char* src, void* dst) { return ::inet_pton(af, src, dst); }

int evutil_sockaddr_cmp(const struct sockaddr* sa1, const struct sockaddr* sa2, int include_port) {
  if (sa1->sa_family != sa2->sa_family) return sa1->sa_family - sa2->sa_family;
  if (sa1->sa_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(sa1);
    auto* b = reinterpret_cast<const sockaddr_in*>(sa2);
    const uint32_t x = ntohl(a->sin_addr.s_addr), y = ntohl(b->sin_addr.s_addr);
    if (x != y) return x < y ? -1 : 1;
    if (include_port && a->sin_port != b->sin_port) return ntohs(a->sin_port) < ntohs(b->sin_port) ? -1 : 1;
    return 0;
  }
  if (sa1->sa_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(sa1);
    auto* b = reinterpret_cast<const sockaddr_in6*>(sa2);
    if (int r = std::memcmp(&a->sin6_addr, &b->sin6_addr, 16); r != 0) return r;
    if (include_port && a->sin6_port != b->sin6_port)
      return ntohs(a->sin6_port) < ntohs(b->sin6_port) ? -1 : 1;
    return 0;
  }
  return 1;
}

ev_int64_t evutil_strtoll(const char* s, char** endptr, int base) { return std::strtoll(s, endptr, base); }

int evutil_vsnprintf(char* buf, size_t buflen, const char* format, va_list ap) {
  if (buflen == 0) return 0;
  const int r = std::vsnprintf(buf, buflen, format, ap);
  buf[buflen - 1] = '\0';
  return r;
}

int evutil_snprintf(char* buf, size_t buflen, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  const int r = evutil_vsnprintf(buf, buflen, format, ap);
  va_end(ap);
  return r;
}

int evutil_ascii_strcasecmp(const char* s1, const char* s2) { return ::strcasecmp(s1, s2); }
int evutil_ascii_strncasecmp(const char* s1, const char* s2, size_t n) { return ::strncasecmp(s1, s2, n); }

}  // extern "C"
