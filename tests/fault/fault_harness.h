// The reactor-level fault-injection harness: an echo server (Listener + one BufferEvent per
// client) and its clients, all on one EventBase stepped by the test thread, with a
// reactor::FaultInjector installed on that thread. Clients are raw sockets (reactord::test_support::Peer)
// that never go through the seam, so a fault hits the server side only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/net_test_support.h"
#include "reactor/buffer_event.h"
#include "reactor/event_base.h"
#include "reactor/fault_injector.h"
#include "reactor/listener.h"
#include "reactor/sys_calls.h"
#include "support/byte_pattern.h"

namespace reactord::test_support {

using namespace std::chrono_literals;

// One accepted client, server side.
struct ServerConn {
  std::unique_ptr<reactor::BufferEvent> bev;
  int fd = -1;                  // the server-side socket (for FaultRule::fd)
  std::uint16_t peer_port = 0;  // the client's local port
  reactor::BevFlags what{};     // what ended it (0: still open)
  int error = 0;                // its errno (kBevError)
};

// Echoes every byte back; closes a client abortively on error, gracefully on EOF.
class EchoServer {
 public:
  explicit EchoServer(reactor::EventBase& base);
  reactor::SocketAddress address() const { return listener_.local_address(); }
  reactor::Listener& listener() { return listener_; }
  std::vector<std::unique_ptr<ServerConn>>& conns() { return conns_; }
  const std::vector<int>& listener_errors() const { return listener_errors_; }
  // The server side of the client whose socket is client_fd (nullptr if not accepted yet).
  ServerConn* conn_of(int client_fd);
  std::size_t closed_count() const;

 private:
  void on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& peer);

  reactor::EventBase& base_;
  reactor::Listener listener_;
  std::vector<std::unique_ptr<ServerConn>> conns_;
  std::vector<int> listener_errors_;
};

// A connected client socket (non-blocking), not yet accepted by the server.
reactor::UniqueFd connect_client(const reactor::SocketAddress& address);

// A client, accepted by `server` (steps the loop until it is) and reading.
std::unique_ptr<reactord::test_support::Peer> accepted_client(reactor::EventBase& base, EchoServer& server);

// Sends `data` through `peer` and steps the loop until as many bytes came back (or 5 s);
// true if they came back byte for byte.
bool echo_exact(reactor::EventBase& base, reactord::test_support::Peer& peer, const std::string& data);

// Loop iterations run so far.
std::uint64_t iterations(reactor::EventBase& base);

}  // namespace reactord::test_support
