// The one loop stepper and the one per-backend fixture of the tests that own an EventBase
// (reactor conformance, net, server units). Header-only; the reactor only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/inspection.h"
#include "support/flags.h"

namespace reactord::test_support {

// Steps base.loop(kLoopOnce) until done() holds: at most max_steps passes, and a guard timer
// breaks a pass that would otherwise block past `limit` (the guard is internal: it never keeps
// the loop alive by itself). Returns done(). The limit is for hangs on a loaded machine, not
// for speed.
inline bool run_until(reactor::EventBase& base, const std::function<bool()>& done,
                      reactor::Duration limit = std::chrono::seconds(5), int max_steps = 200000) {
  bool expired = false;
  reactor::Event guard(base, -1, reactor::EventFlags{}, [&](int, reactor::EventFlags) {
    expired = true;
    base.loopbreak();
  });
  guard.set_internal(true);
  guard.add(limit);
  for (int i = 0; i < max_steps && !expired && !done(); ++i) base.loop(reactor::kLoopOnce);
  guard.del();
  return done();
}

// Steps base.loop(kLoopNonblock) n times.
inline void step(reactor::EventBase& base, int n) {
  for (int i = 0; i < n; ++i) base.loop(reactor::kLoopNonblock);
}

// Non-internal events still pending or active: a test must leave none behind.
inline std::string left_registered(const reactor::EventBase& base) {
  std::string out;
  for (const reactor::EventInfo& info : base.snapshot()) {
    if (info.kind == reactor::EventKind::kInternal) continue;
    if (info.state == reactor::EventState::kInitialized) continue;
    out += "#" + std::to_string(info.id) + " " + reactor::to_string(info.kind) + " " +
           reactor::to_string(info.state) + " " + reactor::flags_to_string(info.requested) + " " +
           info.label + "; ";
  }
  return out;
}

// Every test of a suite runs once per backend (instance names "Epoll" and "Poll"), on a base
// of its own, and must leave no event registered and none active behind. The check runs in the
// destructor, after the derived fixture's own members (its BufferEvents, listeners, peers) are
// gone and before the base is: what it finds, nothing of the test owns any more. (gtest counts
// a failure in the fixture's destructor against the test.)
class BackendTest : public ::testing::TestWithParam<reactor::Backend> {
 protected:
  BackendTest() : base_(reactor::EventBaseConfig{GetParam(), 1}) {}
  ~BackendTest() override {
    EXPECT_EQ(left_registered(base_), "");
    EXPECT_EQ(base_.counts().active, 0u);
  }
  reactor::EventBase base_;
};

inline std::string backend_name(const ::testing::TestParamInfo<reactor::Backend>& info) {
  return info.param == reactor::Backend::kEpoll ? "Epoll" : "Poll";
}

}  // namespace reactord::test_support

// Instantiates a BackendTest suite on both backends.
#define REACTORD_BACKEND_SUITE(Suite)                                                                \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                          \
                           ::testing::Values(::reactor::Backend::kEpoll, ::reactor::Backend::kPoll), \
                           ::reactord::test_support::backend_name)
