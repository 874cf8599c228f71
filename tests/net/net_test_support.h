// Helpers for the reactor_net tests: loopback TCP pairs and a raw-socket peer driven by the
// same loop (so the loop never waits on the test).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/unique_fd.h"
#include "support/loop.h"

namespace reactord::test_support {

using namespace std::chrono_literals;

// A connected loopback TCP pair (both ends non-blocking): `client` connected to `server`.
struct TcpPair {
  reactor::UniqueFd client;
  reactor::UniqueFd server;
};
TcpPair tcp_pair();

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
std::uint16_t closed_port();

// Sets SO_SNDBUF so that a writer fills the path quickly when the peer does not read. (The
// receiver keeps its default: a tiny receive window stalls loopback TCP on persist timers.)
void shrink_send_buffer(int fd, int bytes);
// SO_LINGER 0 + close: the other end gets a reset.
void reset_close(reactor::UniqueFd& fd);

// The test's side of a connection: a raw socket whose readable data the loop collects.
class Peer {
 public:
  Peer(reactor::EventBase& base, reactor::UniqueFd fd);
  // Starts / stops collecting what arrives into received().
  void start_reading();
  void stop_reading();
  // send() with MSG_DONTWAIT; returns bytes sent (may be short).
  std::size_t send(std::string_view data);
  void shutdown_write();

  int fd() const { return fd_.get(); }
  reactor::UniqueFd& owned_fd() { return fd_; }
  std::string& received() { return received_; }
  bool eof() const { return eof_; }
  int error() const { return error_; }  // errno of a failed read (ECONNRESET)

 private:
  reactor::UniqueFd fd_;
  std::unique_ptr<reactor::Event> event_;
  std::string received_;
  bool eof_ = false;
  int error_ = 0;
};

}  // namespace reactord::test_support
