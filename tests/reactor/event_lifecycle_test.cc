// Event life cycle (initialized → pending → active) and the I/O semantics of point 2.
#include <signal.h>
#include <sys/socket.h>

#include <system_error>

#include <vector>

#include "reactor/sys_calls.h"
#include "reactor_test_util.h"
#include "support/manual_clock.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class EventLifecycle : public ReactorTest {};

TEST_P(EventLifecycle, StatesFollowLibevent) {
  SocketPair sp;
  std::vector<EventState> seen_in_callback;
  Event ev(base_, sp.a.get(), kRead, [&](int, EventFlags) {});
  Event* self = &ev;
  Event probe(base_, sp.a.get(), kRead, [&](int, EventFlags) { seen_in_callback.push_back(self->state()); });
  EXPECT_EQ(ev.state(), EventState::kInitialized);
  ev.add();
  EXPECT_EQ(ev.state(), EventState::kPending);
  EXPECT_EQ(ev.pending(kRead | kWrite | kTimeout), kRead);
  ev.activate(kWrite);
  EXPECT_EQ(ev.state(), EventState::kActive);
  EXPECT_EQ(ev.pending(kWrite), kWrite);
  ev.del();
  EXPECT_EQ(ev.state(), EventState::kInitialized);
  EXPECT_EQ(ev.pending(kRead | kWrite | kTimeout), EventFlags{});
  ev.add();
  probe.add();
  WriteByte(sp.b.get());
  base_.loop(kLoopNonblock);
  // ev is non-persistent and probe ran after or before it in the same pass: either way ev
  // ended up initialized (its callback ran), and probe saw it active or initialized, never
  // stuck pending.
  ASSERT_EQ(seen_in_callback.size(), 1u);
  EXPECT_NE(seen_in_callback[0], EventState::kPending);
  EXPECT_EQ(ev.state(), EventState::kInitialized);
  EXPECT_EQ(probe.state(), EventState::kInitialized);
}

TEST_P(EventLifecycle, NonPersistentIsNotPendingInItsCallbackAndCanReAddItself) {
  SocketPair sp;
  int calls = 0;
  EventFlags pending_in_cb{0xff};
  std::unique_ptr<Event> ev;
  ev = std::make_unique<Event>(base_, sp.a.get(), kRead, [&](int fd, EventFlags fired) {
    EXPECT_EQ(fd, sp.a.get());
    EXPECT_EQ(fired, kRead);
    pending_in_cb = ev->pending(kRead | kTimeout);
    EXPECT_EQ(ev->state(), EventState::kInitialized);
    if (++calls == 1) ev->add();  // re-arm once
  });
  ev->add();
  WriteByte(sp.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(pending_in_cb, EventFlags{});
  EXPECT_EQ(ev->state(), EventState::kPending);  // re-added by its callback
  base_.loop(kLoopNonblock);                     // still readable (level-triggered)
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(ev->state(), EventState::kInitialized);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 2);  // not pending: no more calls
}

TEST_P(EventLifecycle, PersistStaysPending) {
  SocketPair sp;
  int calls = 0;
  std::unique_ptr<Event> ev;
  ev = std::make_unique<Event>(base_, sp.a.get(), kRead | kPersist, [&](int, EventFlags) {
    ++calls;
    EXPECT_EQ(ev->state(), EventState::kPending);
  });
  ev->add();
  WriteByte(sp.b.get());
  for (int i = 0; i < 3; ++i) base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 3);
  ReadAll(sp.a.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(ev->state(), EventState::kPending);
  ev->del();
}

TEST_P(EventLifecycle, PersistTimeoutRestartsAtEachActivation) {
  // The base reads a ManualClock (support/manual_clock.h): it sees only the time the test
  // gives it, so "activity every 100 ms keeps a 200 ms timeout away" holds on a loaded
  // machine too (with real timers, a loop that ran 100 ms late once fired the timeout).
  ManualClock clock;
  ScopedSysCalls installed(clock);
  SocketPair sp;
  int reads = 0, timeouts = 0;
  Event ev(base_, sp.a.get(), kRead | kPersist, [&](int fd, EventFlags fired) {
    if (any(fired & kRead)) {
      ++reads;
      ReadAll(fd);
    }
    if (any(fired & kTimeout)) ++timeouts;
  });
  ev.add(Duration(200ms));
  std::optional<Duration> left;
  // Activity every 100 ms keeps pushing the 200 ms timeout away.
  for (int i = 0; i < 4; ++i) {
    WriteByte(sp.b.get());
    base_.loop(kLoopNonblock);
    ASSERT_EQ(reads, i + 1);
    ASSERT_EQ(ev.pending(kTimeout, &left), kTimeout);
    ASSERT_TRUE(left.has_value());
    EXPECT_EQ(*left, Duration(200ms)) << "timeout was not restarted on activation " << i;
    clock.advance(100ms);
    base_.loop(kLoopNonblock);
    ASSERT_EQ(timeouts, 0) << "100 ms after activation " << i;
  }
  EXPECT_EQ(reads, 4);
  // Now silence: 200 ms after the last read the timeout fires once, not a nanosecond before,
  // and the event stays armed (persist) for the next period.
  clock.advance(100ms - 1ns);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(timeouts, 0) << "fired 1 ns early";
  clock.advance(1ns);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(reads, 4);
  EXPECT_EQ(ev.pending(kTimeout | kRead, &left), kTimeout | kRead);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, Duration(200ms)) << "the next period starts at the timeout";
  ev.del();
}

TEST_P(EventLifecycle, DeletedAfterActiveBeforeCallbackDoesNotRun) {
  SocketPair sp;
  int calls = 0;
  Event ev(base_, sp.a.get(), kRead, [&](int, EventFlags) { ++calls; });
  ev.add();
  ev.activate(kRead);
  ASSERT_EQ(ev.state(), EventState::kActive);
  ev.del();
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 0);
}

TEST_P(EventLifecycle, SeveralEventsOnOneFdAllFire) {
  SocketPair sp;
  int r1 = 0, r2 = 0, w = 0;
  Event a(base_, sp.a.get(), kRead, [&](int, EventFlags f) { r1 += f == kRead; });
  Event b(base_, sp.a.get(), kRead | kPersist, [&](int, EventFlags f) { r2 += f == kRead; });
  Event c(base_, sp.a.get(), kWrite, [&](int, EventFlags f) { w += f == kWrite; });
  a.add();
  b.add();
  c.add();
  WriteByte(sp.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(r1, 1);
  EXPECT_EQ(r2, 1);
  EXPECT_EQ(w, 1);
  // Deleting one keeps the others' interest.
  a.add();
  b.del();
  base_.loop(kLoopNonblock);
  EXPECT_EQ(r1, 2);
  EXPECT_EQ(r2, 1);
}

TEST_P(EventLifecycle, ReadOrTimeoutReportsWhichFired) {
  SocketPair sp;
  EventFlags got{};
  int calls = 0;
  Event ev(base_, sp.a.get(), kRead, [&](int, EventFlags fired) {
    got = fired;
    ++calls;
  });
  ev.add(Duration(20ms));
  ASSERT_TRUE(run_until(base_, [&] { return calls == 1; }));
  EXPECT_EQ(got, kTimeout);
  ev.add(Duration(10s));
  WriteByte(sp.b.get());
  ASSERT_TRUE(run_until(base_, [&] { return calls == 2; }));
  EXPECT_EQ(got, kRead);
  EXPECT_EQ(ev.state(), EventState::kInitialized);  // the timeout went with it
}

TEST_P(EventLifecycle, FdWithOnlyATimeoutReportsItsFd) {
  SocketPair sp;
  int got_fd = -2;
  EventFlags got{};
  Event ev(base_, sp.a.get(), EventFlags{}, [&](int fd, EventFlags fired) {
    got_fd = fd;
    got = fired;
  });
  ev.add(Duration(1ms));
  WriteByte(sp.b.get());  // readable, but it did not ask for kRead
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(got_fd, sp.a.get());
  EXPECT_EQ(got, kTimeout);
}

TEST_P(EventLifecycle, EdgeTriggeredFiresOncePerEdge) {
  SocketPair sp;
  int calls = 0;
  Event ev(base_, sp.a.get(), kRead | kET | kPersist, [&](int, EventFlags) { ++calls; });
  ev.add();
  WriteByte(sp.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 1);
  base_.loop(kLoopNonblock);  // nothing read: still readable
  if (GetParam() == Backend::kEpoll) {
    EXPECT_EQ(calls, 1) << "epoll + kET: no new edge, no callback";
  } else {
    EXPECT_EQ(calls, 2) << "poll ignores kET (documented): level-triggered";
  }
  int before = calls;
  WriteByte(sp.b.get());  // a new edge
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, before + 1);
  ev.del();
}

TEST_P(EventLifecycle, ClosedFiresOnPeerHangup) {
  SocketPair sp;
  EventFlags got{};
  Event ev(base_, sp.a.get(), kClosed, [&](int, EventFlags fired) { got = fired; });
  ev.add();
  base_.loop(kLoopNonblock);
  EXPECT_EQ(got, EventFlags{});
  sp.b.reset();
  base_.loop(kLoopNonblock);
  EXPECT_EQ(got, kClosed);
}

// Stale readiness: A and B are both ready in the same poll batch; A's callback deletes (or
// destroys) B; B must not run.
TEST_P(EventLifecycle, DeletingAnotherReadyEventInSameBatchSuppressesIt) {
  SocketPair s1, s2;
  int a_calls = 0, b_calls = 0;
  std::unique_ptr<Event> a, b;
  auto a_cb = [&](int, EventFlags) {
    ++a_calls;
    if (b) b->del();  // whichever of the two runs first deletes the other
  };
  a = std::make_unique<Event>(base_, s1.a.get(), kRead, a_cb);
  b = std::make_unique<Event>(base_, s2.a.get(), kRead, [&](int, EventFlags) {
    ++b_calls;
    a->del();
  });
  a->add();
  b->add();
  WriteByte(s1.b.get());
  WriteByte(s2.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(a_calls + b_calls, 1) << "both were ready; the first deleted the second";
}

TEST_P(EventLifecycle, DestroyingAnotherReadyEventInSameBatchIsSafeAndSuppressesIt) {
  SocketPair s1, s2;
  int calls = 0;
  std::unique_ptr<Event> a, b;
  a = std::make_unique<Event>(base_, s1.a.get(), kRead | kPersist, [&](int, EventFlags) {
    ++calls;
    b.reset();  // destroyed while active
  });
  b = std::make_unique<Event>(base_, s2.a.get(), kRead | kPersist, [&](int, EventFlags) {
    ++calls;
    a.reset();
  });
  a->add();
  b->add();
  WriteByte(s1.b.get());
  WriteByte(s2.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE((a == nullptr) != (b == nullptr));
  a.reset();
  b.reset();
  EXPECT_EQ(base_.counts().active, 0u);
}

// The stale fd case: A's callback closes B's fd and opens a new socket that gets the same
// number, registering C on it. Neither B nor C may run on the old readiness.
TEST_P(EventLifecycle, ReusedFdNumberDoesNotInheritStaleReadiness) {
  SocketPair s1;
  auto s2 = std::make_unique<SocketPair>();
  int b_calls = 0, c_calls = 0;
  std::unique_ptr<Event> b, c;
  std::unique_ptr<SocketPair> s3;
  Event a(base_, s1.a.get(), kRead, [&](int, EventFlags) {
    if (!b) return;  // B ran first: nothing to test in this order
    int old_fd = s2->a.get();
    b.reset();
    s2.reset();
    s3 = std::make_unique<SocketPair>();
    if (s3->a.get() != old_fd && s3->b.get() != old_fd) return;
    int reused = s3->a.get() == old_fd ? s3->a.get() : s3->b.get();
    c = std::make_unique<Event>(base_, reused, kRead, [&](int, EventFlags) { ++c_calls; });
    c->add();
  });
  b = std::make_unique<Event>(base_, s2->a.get(), kRead, [&](int, EventFlags) { ++b_calls; });
  a.add();
  b->add();
  WriteByte(s1.b.get());
  WriteByte(s2->b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(c_calls, 0) << "the new socket has no data";
  if (c) {
    base_.loop(kLoopNonblock);
    EXPECT_EQ(c_calls, 0);
    c->del();
  }
  if (b) b->del();
}

TEST_P(EventLifecycle, BadFdIsRefusedWithSystemError) {
  int fd;
  {
    SocketPair sp;
    fd = sp.a.get();
  }  // closed
  Event ev(base_, fd, kRead, [](int, EventFlags) {});
  if (GetParam() == Backend::kEpoll) {
    EXPECT_THROW(ev.add(), std::system_error);
    EXPECT_EQ(ev.state(), EventState::kInitialized);
  } else {
    // poll(2) takes any number and reports a closed fd as POLLNVAL at wait time: the
    // callback runs, and its read() sees EBADF.
    EventFlags got{};
    Event probe(base_, fd, kRead, [&](int, EventFlags fired) { got = fired; });
    probe.add();
    base_.loop(kLoopNonblock);
    EXPECT_EQ(got, kRead);
  }
}

TEST_P(EventLifecycle, MisuseIsRejected) {
  EXPECT_THROW(Event(base_, -1, kRead, [](int, EventFlags) {}), std::invalid_argument);
  EXPECT_THROW(Event(base_, SIGUSR1, kSignal | kRead, [](int, EventFlags) {}), std::invalid_argument);
  EXPECT_THROW(Event(base_, 0, kSignal, [](int, EventFlags) {}), std::invalid_argument);
  auto t = Event::timer(base_, [](int, EventFlags) {});
  EXPECT_THROW(t->add(), std::logic_error);  // a pure timer needs a timeout
  EXPECT_EQ(t->kind(), EventKind::kTimer);
}

REACTORD_BACKEND_SUITE(EventLifecycle);

}  // namespace
}  // namespace reactord::test_support
