// A loopback port that something else already holds, for the "address in use" tests: a plain
// listening socket on 127.0.0.1 (no SO_REUSEPORT, so nobody can share it), closed at the end
// of its scope. Header-only. Any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace reactord::test_support {

class TakenPort {
 public:
  TakenPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
        ::listen(fd_, 1) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) == 0) {
      address_ = "127.0.0.1:" + std::to_string(ntohs(sin.sin_port));
    }
  }
  ~TakenPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  TakenPort(const TakenPort&) = delete;
  TakenPort& operator=(const TakenPort&) = delete;

  // "127.0.0.1:PORT"; empty if the socket could not be set up (the test asserts it is not).
  const std::string& address() const { return address_; }

 private:
  int fd_;
  std::string address_;
};

}  // namespace reactord::test_support
