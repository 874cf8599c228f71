#include "support/tcp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace reactord::test_support {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

}  // namespace

reactor::UniqueFd connect_to(const reactor::SocketAddress& address) {
  reactor::UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  if (::connect(fd.get(), address.get(), address.length()) != 0) return reactor::UniqueFd();
  return fd;
}

bool wait_for(int fd, short events, std::chrono::milliseconds limit) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(limit.count(), 0)));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

std::string read_exactly(int fd, std::size_t n, std::chrono::milliseconds limit) {
  std::string out;
  const auto deadline = Clock::now() + limit;
  char buf[65536];
  while (out.size() < n) {
    const auto left = left_until(deadline);
    if (left.count() <= 0 || !wait_for(fd, POLLIN, left)) break;
    const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), MSG_DONTWAIT);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

bool wait_closed(int fd, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  char buf[4096];
  while (true) {
    const auto left = left_until(deadline);
    if (left.count() <= 0 || !wait_for(fd, POLLIN, left)) return false;
    const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EINTR) return true;
  }
}

std::size_t write_some(int fd, std::string_view data, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  std::size_t sent = 0;
  while (sent < data.size()) {
    const auto left = left_until(deadline);
    if (left.count() <= 0 || !wait_for(fd, POLLOUT, left)) break;
    const ssize_t w = ::send(fd, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;  // the connection is gone
    }
    sent += static_cast<std::size_t>(w);
  }
  return sent;
}

bool write_all(int fd, std::string_view data, std::chrono::milliseconds limit) {
  return write_some(fd, data, limit) == data.size();
}

std::string read_to_end(int fd, std::string* how, std::chrono::milliseconds limit) {
  std::string out;
  const auto deadline = Clock::now() + limit;
  char buf[65536];
  for (;;) {
    const auto left = left_until(deadline);
    if (left.count() <= 0) {
      *how = "timeout";
      return out;
    }
    if (!wait_for(fd, POLLIN, left)) continue;
    const ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got == 0) {
      *how = "eof";
      return out;
    }
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      *how = errno == ECONNRESET ? "reset" : "error";
      return out;
    }
    out.append(buf, static_cast<std::size_t>(got));
  }
}

TcpClient::TcpClient(std::uint16_t port, std::chrono::milliseconds limit, int receive_buffer)
    : TcpClient(reactor::SocketAddress::ipv4_loopback(port), limit, receive_buffer) {}

TcpClient::TcpClient(const reactor::SocketAddress& address, std::chrono::milliseconds limit,
                     int receive_buffer)
    : fd_(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0)), limit_(limit) {
  if (!fd_) return;
  if (receive_buffer > 0)
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  if (::connect(fd_.get(), address.get(), address.length()) != 0) fd_.reset();
}

std::uint16_t TcpClient::local_port() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

void TcpClient::send_all(const std::string& data) {
  if (!test_support::write_all(fd_.get(), data, limit_)) {
    throw std::runtime_error("TcpClient: could not send " + std::to_string(data.size()) + " bytes");
  }
}

std::size_t TcpClient::send_some(const std::string& data) { return write_some(fd_.get(), data, limit_); }

std::string TcpClient::read_exactly(std::size_t n, std::chrono::milliseconds limit) {
  return test_support::read_exactly(fd_.get(), n, limit);
}

std::string TcpClient::read_to_end(std::string* how, std::chrono::milliseconds limit) {
  return test_support::read_to_end(fd_.get(), how, limit);
}

bool TcpClient::readable_within(std::chrono::milliseconds limit) {
  return wait_for(fd_.get(), POLLIN, limit);
}

bool TcpClient::closed_without_data() {
  if (!wait_for(fd_.get(), POLLIN, limit_)) return false;
  char c;
  const ssize_t r = ::recv(fd_.get(), &c, 1, MSG_DONTWAIT);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

void TcpClient::reset() {
  if (!fd_) return;
  const linger l{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd_.reset();
}

}  // namespace reactord::test_support
