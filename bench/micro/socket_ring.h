// SocketRing: the P descriptors of the dispatch benchmark (libevent's test/bench.c).
//
// bench.c uses P socketpairs and watches one end of each, so P events cost 2P descriptors;
// the descriptor limit here (20000) would stop it short of P = 10000. We use both ends of
// P/2 socketpairs instead: every descriptor carries one persistent read event, and writing
// one byte to its peer makes it readable. P events, P descriptors, the same kernel work.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace bench {

class SocketRing {
 public:
  // P must be even (both ends of P/2 socketpairs). Throws std::system_error when the
  // descriptors cannot be had.
  explicit SocketRing(std::size_t p) {
    if (p == 0 || p % 2 != 0) throw std::invalid_argument("SocketRing: P must be even");
    fds_.reserve(p);
    for (std::size_t i = 0; i < p; i += 2) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        int err = errno;
        close_all();
        throw std::system_error(err, std::generic_category(), "socketpair #" + std::to_string(i / 2));
      }
      fds_.push_back(sv[0]);
      fds_.push_back(sv[1]);
    }
  }
  ~SocketRing() { close_all(); }
  SocketRing(const SocketRing&) = delete;
  SocketRing& operator=(const SocketRing&) = delete;

  std::size_t size() const { return fds_.size(); }
  // The descriptor of event i.
  int fd(std::size_t i) const { return fds_[i]; }
  // Writing here makes fd(i) readable.
  int peer(std::size_t i) const { return fds_[i ^ 1]; }

 private:
  void close_all() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }
  std::vector<int> fds_;
};

// The work of bench.c's read_cb, shared by all three loops so that only the dispatch differs:
// read the byte, count it, and while writes remain, pass the token on to the next descriptor.
struct ChainState {
  const SocketRing* ring = nullptr;
  std::size_t count = 0;     // bytes read (callbacks that did their work)
  std::size_t fired = 0;     // bytes written (the loop runs until count == fired)
  std::size_t writes = 0;    // chained writes left in this round
  std::size_t failures = 0;  // short reads or writes: the run is invalid

  void on_readable(std::size_t idx) {
    char ch;
    ssize_t n = ::recv(ring->fd(idx), &ch, 1, 0);
    if (n >= 0) {
      count += static_cast<std::size_t>(n);
    } else {
      ++failures;
    }
    if (writes > 0) {
      std::size_t next = idx + 1 == ring->size() ? 0 : idx + 1;
      if (::send(ring->peer(next), "e", 1, 0) != 1) ++failures;
      --writes;
      ++fired;
    }
  }

  // Starts a round: `active` tokens spread evenly over the ring, `chained` writes to follow.
  void start_round(std::size_t active, std::size_t chained) {
    count = 0;
    fired = 0;
    writes = chained;
    std::size_t space = ring->size() / active;
    for (std::size_t i = 0; i < active; ++i, ++fired) {
      if (::send(ring->peer(i * space), "e", 1, 0) != 1) ++failures;
    }
  }
  bool round_done() const { return count == fired; }
};

}  // namespace bench
