#include "net_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace reactord::test_support {

namespace {

sockaddr_in loopback_any_port() {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = 0;
  return sin;
}

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

TcpPair tcp_pair() {
  reactor::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  check(listener.valid(), "socket");
  sockaddr_in sin = loopback_any_port();
  check(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0, "bind");
  check(::listen(listener.get(), 1) == 0, "listen");
  socklen_t len = sizeof(sin);
  check(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0, "getsockname");
  TcpPair pair;
  pair.client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  check(pair.client.valid(), "socket");
  // Loopback: the handshake completes inside connect(), the backlog holds the connection.
  check(::connect(pair.client.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0, "connect");
  pair.server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  check(pair.server.valid(), "accept");
  check(::fcntl(pair.client.get(), F_SETFL, O_NONBLOCK) == 0, "fcntl");
  return pair;
}

std::uint16_t closed_port() {
  reactor::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  check(fd.valid(), "socket");
  sockaddr_in sin = loopback_any_port();
  check(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0, "bind");
  socklen_t len = sizeof(sin);
  check(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0, "getsockname");
  return ntohs(sin.sin_port);  // bound but never listening: connecting gets a reset
}

void shrink_send_buffer(int fd, int bytes) { ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)); }

void reset_close(reactor::UniqueFd& fd) {
  const linger lg{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  fd.reset();
}

Peer::Peer(reactor::EventBase& base, reactor::UniqueFd fd) : fd_(std::move(fd)) {
  event_ = std::make_unique<reactor::Event>(base, fd_.get(), reactor::kRead | reactor::kPersist,
                                            [this](int, reactor::EventFlags) {
                                              char buf[64 * 1024];
                                              const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
                                              if (n > 0) {
                                                received_.append(buf, static_cast<std::size_t>(n));
                                              } else if (n == 0) {
                                                eof_ = true;
                                                event_->del();
                                              } else if (errno != EAGAIN && errno != EINTR) {
                                                error_ = errno;
                                                event_->del();
                                              }
                                            });
  event_->set_label("test.peer");
}

void Peer::start_reading() { event_->add(); }
void Peer::stop_reading() { event_->del(); }

std::size_t Peer::send(std::string_view data) {
  const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void Peer::shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }

}  // namespace reactord::test_support
