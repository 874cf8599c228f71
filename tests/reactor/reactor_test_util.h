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

namespace reactor::testing {

using namespace std::chrono_literals;

struct SocketPair {
  UniqueFd a;
  UniqueFd b;
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

// Non-internal events still pending or active: a test must leave none behind.
inline std::string LeftRegistered(const EventBase& base) {
  std::string out;
  for (const EventInfo& info : base.snapshot()) {
    if (info.kind == EventKind::kInternal) continue;
    if (info.state == EventState::kInitialized) continue;
    out += "#" + std::to_string(info.id) + " " + to_string(info.kind) + " " + to_string(info.state) + " " +
           flags_to_string(info.requested) + "; ";
  }
  return out;
}

// Steps base with kLoopOnce until pred() holds: at most max_steps passes, and a guard timer
// breaks a pass that would otherwise block longer than `limit`. Returns pred().
inline bool RunUntil(EventBase& base, const std::function<bool()>& pred, int max_steps = 100,
                     Duration limit = 5s) {
  bool timed_out = false;
  Event guard(base, -1, 0, [&](int, EventFlags) {
    timed_out = true;
    base.loopbreak();
  });
  guard.set_internal(true);  // must not keep the loop alive by itself
  guard.add(limit);
  for (int i = 0; i < max_steps && !pred() && !timed_out; ++i) base.loop(kLoopOnce);
  guard.del();
  return pred();
}

class ReactorTest : public ::testing::TestWithParam<Backend> {
 protected:
  ReactorTest() : base_(EventBaseConfig{GetParam(), 1}) {}
  void TearDown() override {
    EXPECT_EQ(LeftRegistered(base_), "");
    EventCounts c = base_.counts();
    EXPECT_EQ(c.active, 0u);
  }
  EventBase base_;
};

struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    return info.param == Backend::kEpoll ? "Epoll" : "Poll";
  }
};

}  // namespace reactor::testing

// The whole conformance suite runs on both backends.
#define REACTOR_BACKEND_SUITE(Suite)                                                                 \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                          \
                           ::testing::Values(::reactor::Backend::kEpoll, ::reactor::Backend::kPoll), \
                           ::reactor::testing::BackendName())
