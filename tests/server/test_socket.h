// Blocking loopback sockets with deadlines, for tests that talk to a running reactord (an
// in-process Server on its own threads, or the real binary). Every call is bounded in time.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

namespace reactord::test_support {

using namespace std::chrono_literals;
using TestClock = std::chrono::steady_clock;

// A connected TCP socket (blocking fd; reads and writes use poll() with a deadline).
inline reactor::UniqueFd connect_to(const reactor::SocketAddress& address) {
  reactor::UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  if (::connect(fd.get(), address.get(), address.length()) != 0) return reactor::UniqueFd();
  return fd;
}

// Waits for fd to be readable (or writable). False on timeout.
inline bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

// Reads exactly n bytes within timeout. Returns what it got (shorter on EOF/timeout).
inline std::string read_exactly(int fd, std::size_t n, std::chrono::milliseconds timeout = 5000ms) {
  std::string out;
  const auto deadline = TestClock::now() + timeout;
  char buf[65536];
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TestClock::now());
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

// True if the peer closed (EOF or reset) within timeout.
inline bool wait_closed(int fd, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = TestClock::now() + timeout;
  char buf[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TestClock::now());
    if (left.count() <= 0 || !wait_for(fd, POLLIN, left)) return false;
    const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EINTR) return true;
  }
}

// Writes all of data within timeout.
inline bool write_all(int fd, std::string_view data, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = TestClock::now() + timeout;
  while (!data.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TestClock::now());
    if (left.count() <= 0 || !wait_for(fd, POLLOUT, left)) return false;
    const ssize_t w = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

// VmRSS of a process in KiB ("self" for this one).
inline long rss_kib(const std::string& pid = "self") {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace reactord::test_support
