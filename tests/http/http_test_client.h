// A blocking HTTP/1.1 test client over a real socket (IPv4 or IPv6), each call bounded in time:
// sends raw bytes and reads answers framed by Content-Length. The socket is the tests' one TCP
// client (support/tcp_client.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "reactor/socket_address.h"
#include "support/tcp_client.h"

namespace reactord::test_support {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpTestClient {
 public:
  // Connects; receive_buffer > 0 sets SO_RCVBUF first. Throws std::runtime_error.
  explicit HttpTestClient(const reactor::SocketAddress& server, int timeout_ms = 10000,
                          int receive_buffer = 0);

  void send_all(const std::string& data);
  // Sends; false if the peer has closed (never throws).
  bool try_send(const std::string& data);
  // One answer (HEAD: pass head_only, no body is read). nullopt on EOF, reset or timeout.
  std::optional<RawResponse> read_response(bool head_only = false);
  // True once the server has closed (EOF or reset), reading and dropping what comes first;
  // false on timeout.
  bool wait_closed();

 private:
  bool fill();  // reads more into buffered_; false on EOF/error/timeout
  std::chrono::milliseconds limit_;
  TcpClient client_;
  std::string buffered_;
};

}  // namespace reactord::test_support
