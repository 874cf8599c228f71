#include "fault_harness.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace reactord::test_support {

EchoServer::EchoServer(reactor::EventBase& base)
    : base_(base),
      listener_(base, reactor::SocketAddress::ipv4_loopback(0), reactor::kLevOptReuseable, -1,
                [this](reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
                  on_accept(std::move(fd), peer);
                }) {
  listener_.set_error_callback([this](int error) { listener_errors_.push_back(error); });
}

void EchoServer::on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
  auto conn = std::make_unique<ServerConn>();
  ServerConn* c = conn.get();
  c->fd = fd.get();
  c->peer_port = peer.port();
  c->bev = std::make_unique<reactor::BufferEvent>(base_, fd.release(), reactor::kBevOptCloseOnFree);
  c->bev->setcb([](reactor::BufferEvent& bev) { bev.write_buffer(bev.input()); }, {},
                [c](reactor::BufferEvent& bev, reactor::BevFlags what, int error) {
                  c->what = what;
                  c->error = error;
                  if (any(what & reactor::kBevError)) {
                    bev.close_abortively();
                  } else {
                    bev.close_gracefully(1s);
                  }
                });
  c->bev->enable(reactor::kRead);
  conns_.push_back(std::move(conn));
}

ServerConn* EchoServer::conn_of(int client_fd) {
  const std::uint16_t port = reactor::SocketAddress::local_of(client_fd).port();
  for (auto& c : conns_) {
    if (c->peer_port == port) return c.get();
  }
  return nullptr;
}

std::size_t EchoServer::closed_count() const {
  std::size_t n = 0;
  for (const auto& c : conns_) n += reactor::any(c->what);
  return n;
}

reactor::UniqueFd connect_client(const reactor::SocketAddress& address) {
  reactor::UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid());
  // Loopback: the handshake completes inside connect(), the backlog holds the connection.
  EXPECT_EQ(::connect(fd.get(), address.get(), address.length()), 0) << std::strerror(errno);
  ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return fd;
}

std::unique_ptr<reactord::test_support::Peer> accepted_client(reactor::EventBase& base, EchoServer& server) {
  reactor::UniqueFd fd = connect_client(server.address());
  const int raw = fd.get();
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return server.conn_of(raw) != nullptr; }));
  auto peer = std::make_unique<reactord::test_support::Peer>(base, std::move(fd));
  peer->start_reading();
  return peer;
}

bool echo_exact(reactor::EventBase& base, reactord::test_support::Peer& peer, const std::string& data) {
  const std::size_t start = peer.received().size();
  std::size_t sent = 0;
  reactord::test_support::run_until(base, [&] {
    if (sent < data.size()) sent += peer.send(std::string_view(data).substr(sent));
    return peer.received().size() >= start + data.size() || peer.eof() || peer.error() != 0;
  });
  return peer.received().size() == start + data.size() &&
         peer.received().compare(start, data.size(), data) == 0;
}

std::uint64_t iterations(reactor::EventBase& base) { return base.stats().iterations; }

}  // namespace reactord::test_support
