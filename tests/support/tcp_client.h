// The one blocking TCP client of the tests that talk to a running server (an in-process Server
// on its own threads, the real reactord, a metrics endpoint): a connected socket whose every
// call is bounded in time by poll(). The free functions work on any fd (a test that keeps a
// raw UniqueFd); TcpClient owns its socket and is built on them. Tests whose loop the test
// thread steps use net/net_test_support.h's Peer instead (the loop must never wait on them).
#pragma once

#include <poll.h>  // POLLIN / POLLOUT for wait_for

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

namespace reactord::test_support {

inline constexpr std::chrono::milliseconds kSocketLimit{5000};

// A connected TCP socket (blocking; reads and writes wait with poll()); invalid if connect()
// failed.
reactor::UniqueFd connect_to(const reactor::SocketAddress& address);

// Waits for fd to be readable (POLLIN) or writable (POLLOUT). False on timeout.
bool wait_for(int fd, short events, std::chrono::milliseconds limit);

// Reads exactly n bytes within `limit`; returns what it got (shorter on EOF, error or timeout).
std::string read_exactly(int fd, std::size_t n, std::chrono::milliseconds limit = kSocketLimit);

// True if the peer closed (EOF or reset) within `limit`; what arrives before is dropped.
bool wait_closed(int fd, std::chrono::milliseconds limit = kSocketLimit);

// Writes all of data within `limit`. False on error or timeout.
bool write_all(int fd, std::string_view data, std::chrono::milliseconds limit = kSocketLimit);

// Writes what fits within `limit`; returns the bytes written (never fails).
std::size_t write_some(int fd, std::string_view data, std::chrono::milliseconds limit);

// Reads until EOF, an error or `limit`. *how: "eof", "reset" (ECONNRESET), "timeout", "error".
std::string read_to_end(int fd, std::string* how, std::chrono::milliseconds limit = kSocketLimit);

// A client socket it owns, connected at construction; each call waits at most `limit`.
class TcpClient {
 public:
  // Connects to 127.0.0.1:port. receive_buffer > 0 sets SO_RCVBUF first (a small window makes
  // the server's output back up sooner). connected() says whether connect() succeeded.
  explicit TcpClient(std::uint16_t port, std::chrono::milliseconds limit = kSocketLimit,
                     int receive_buffer = 0);
  explicit TcpClient(const reactor::SocketAddress& address, std::chrono::milliseconds limit = kSocketLimit,
                     int receive_buffer = 0);

  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  std::uint16_t local_port() const;

  // Sends all of `data`; throws std::runtime_error if it cannot within the limit (the test
  // fails at the call that could not send).
  void send_all(const std::string& data);
  // Sends what fits within the limit; returns the bytes sent (never throws).
  std::size_t send_some(const std::string& data);
  // Reads until `n` bytes arrived, EOF, an error or `limit`; returns what was read.
  std::string read_exactly(std::size_t n) { return read_exactly(n, limit_); }
  std::string read_exactly(std::size_t n, std::chrono::milliseconds limit);
  // Reads until EOF / error / limit. *how: "eof", "reset", "timeout", "error".
  std::string read_to_end(std::string* how) { return read_to_end(how, limit_); }
  std::string read_to_end(std::string* how, std::chrono::milliseconds limit);
  // True if some data arrives within `limit`.
  bool readable_within(std::chrono::milliseconds limit);
  // True once the server closed (EOF or reset) without sending anything more; false on
  // timeout or data.
  bool closed_without_data();
  // close() with a FIN / with an RST (SO_LINGER 0).
  void close() { fd_.reset(); }
  void reset();

 private:
  reactor::UniqueFd fd_;
  std::chrono::milliseconds limit_;
};

}  // namespace reactord::test_support
