// A blocking loopback TCP client for tests: every call is bounded by a receive/send timeout.
#pragma once

#include <cstdint>
#include <string>

namespace reactord::test_support {

class TcpClient {
 public:
  // Connects to 127.0.0.1:port. receive_buffer > 0 sets SO_RCVBUF first (a small window makes
  // the server's output back up sooner). Throws std::runtime_error on failure.
  explicit TcpClient(std::uint16_t port, int timeout_ms = 5000, int receive_buffer = 0);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // Sends all of `data`. Throws on error.
  void send_all(const std::string& data);
  // Sends what fits before the send timeout; returns the bytes sent (never throws).
  std::size_t send_some(const std::string& data);
  // Reads exactly n bytes; throws on EOF, error or timeout.
  std::string read_exactly(std::size_t n);
  // Waits for the server to close: true on EOF or reset, false on timeout or data.
  bool wait_closed();
  // close() with a FIN / with an RST (SO_LINGER 0).
  void close();
  void reset();

 private:
  int fd_ = -1;
};

}  // namespace reactord::test_support
