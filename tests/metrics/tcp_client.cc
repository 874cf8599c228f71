#include "tcp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace reactord::test_support {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("TcpClient: ") + what + ": " + std::strerror(errno));
}

}  // namespace

TcpClient::TcpClient(std::uint16_t port, int timeout_ms, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail("socket");
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int saved = errno;
    ::close(fd_);
    fd_ = -1;
    errno = saved;
    fail("connect");
  }
}

TcpClient::~TcpClient() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpClient::send_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("send");
    }
    sent += static_cast<std::size_t>(n);
  }
}

std::size_t TcpClient::send_some(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN after SO_SNDTIMEO, or the connection is gone
    }
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

std::string TcpClient::read_exactly(std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
    if (r == 0) throw std::runtime_error("TcpClient: EOF after " + std::to_string(got) + " bytes");
    if (r < 0) {
      if (errno == EINTR) continue;
      fail("recv");
    }
    got += static_cast<std::size_t>(r);
  }
  return out;
}

bool TcpClient::wait_closed() {
  char c;
  for (;;) {
    ssize_t r = ::recv(fd_, &c, 1, 0);
    if (r == 0) return true;
    if (r > 0) return false;
    if (errno == EINTR) continue;
    return errno == ECONNRESET;
  }
}

void TcpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TcpClient::reset() {
  if (fd_ < 0) return;
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

}  // namespace reactord::test_support
