// Shared fixture for the reactor conformance suite: every test runs once per backend
// (Epoll / Poll in the test name), over socketpairs, stepping the loop with kLoopOnce /
// kLoopNonblock, and checks at the end that nothing user-visible is left registered.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/unique_fd.h"
#include "support/loop.h"

namespace reactord::test_support {

using namespace std::chrono_literals;

struct SocketPair {
  reactor::UniqueFd a;
  reactor::UniqueFd b;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      ADD_FAILURE() << "socketpair failed";
      return;
    }
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

inline void WriteByte(int fd, char c = 'x') { ASSERT_EQ(::write(fd, &c, 1), 1); }
inline int ReadAll(int fd) {
  char buf[256];
  int total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return total;
    total += static_cast<int>(n);
  }
}

// The per-backend fixture and the loop stepper: tests/support/loop.h.
using ReactorTest = BackendTest;

}  // namespace reactord::test_support
