// once() and activate().
#include <signal.h>

#include <memory>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class OnceAndActivate : public ReactorTest {};

// Counts its destruction, to prove once() frees the callback (and what it captured).
struct Tracker {
  int* destroyed;
  explicit Tracker(int* d) : destroyed(d) {}
  ~Tracker() { ++*destroyed; }
};

TEST_P(OnceAndActivate, OnceTimerRunsOnceAndIsFreed) {
  int calls = 0, destroyed = 0;
  auto tracker = std::make_shared<Tracker>(&destroyed);
  base_.once(-1, EventFlags{}, Duration(5ms), [&calls, tracker](int fd, EventFlags fired) {
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(fired, kTimeout);
    ++calls;
  });
  tracker.reset();
  int once_pending = 0;
  for (const EventInfo& info : base_.snapshot()) {
    once_pending += info.label == "once" && info.state == EventState::kPending;
  }
  EXPECT_EQ(once_pending, 1);
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(destroyed, 1);
  for (const EventInfo& info : base_.snapshot()) EXPECT_NE(info.label, "once");
}

TEST_P(OnceAndActivate, OnceOnFdReportsWhatFired) {
  SocketPair sp;
  EventFlags got{};
  base_.once(sp.a.get(), kRead, Duration(10s), [&](int fd, EventFlags fired) {
    EXPECT_EQ(fd, sp.a.get());
    got = fired;
  });
  WriteByte(sp.b.get());
  EXPECT_EQ(base_.loop(kLoopOnce), LoopResult::kExited);
  EXPECT_EQ(got, kRead);
}

TEST_P(OnceAndActivate, OnceRefusesPersistAndSignal) {
  EXPECT_THROW(base_.once(-1, kPersist, Duration(1ms), [](int, EventFlags) {}), std::invalid_argument);
  EXPECT_THROW(base_.once(SIGUSR2, kSignal, std::nullopt, [](int, EventFlags) {}), std::invalid_argument);
}

TEST_P(OnceAndActivate, OnceIsFreedWhenTheBaseGoesFirst) {
  int destroyed = 0, calls = 0;
  {
    EventBase base(EventBaseConfig{GetParam(), 1});
    auto tracker = std::make_shared<Tracker>(&destroyed);
    base.once(-1, EventFlags{}, Duration(1h), [&calls, tracker](int, EventFlags) { ++calls; });
    tracker.reset();
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1);  // ASan would also flag the leak
  EXPECT_EQ(calls, 0);
}

TEST_P(OnceAndActivate, ActivateRunsAnInitializedEventWithTheGivenFlags) {
  EventFlags got{};
  auto t = Event::timer(base_, [&](int, EventFlags fired) { got = fired; });
  t->activate(kRead | kWrite);
  EXPECT_EQ(t->state(), EventState::kActive);
  EXPECT_EQ(base_.loop(kLoopOnce), LoopResult::kExited);
  EXPECT_EQ(got, kRead | kWrite);
  EXPECT_EQ(t->state(), EventState::kInitialized);
}

TEST_P(OnceAndActivate, ActivateTwiceMergesFlagsAndRunsOnce) {
  int calls = 0;
  EventFlags got{};
  auto t = Event::timer(base_, [&](int, EventFlags fired) {
    ++calls;
    got = fired;
  });
  t->activate(kRead);
  t->activate(kWrite);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, kRead | kWrite);
}

TEST_P(OnceAndActivate, ActivateFromInsideCallbacksIncludingItself) {
  int self_calls = 0, other_calls = 0;
  std::unique_ptr<Event> other = Event::timer(base_, [&](int, EventFlags) { ++other_calls; });
  std::unique_ptr<Event> self;
  self = Event::timer(base_, [&](int, EventFlags fired) {
    EXPECT_EQ(fired, kTimeout);
    if (++self_calls < 3) self->activate(kTimeout);  // again, from its own callback
    other->activate(kTimeout);
  });
  self->activate(kTimeout);
  base_.loop(kLoopNonblock);
  // Activating itself defers to the next iteration, so one pass runs it once; `other` was
  // activated from a callback and runs in the same pass.
  EXPECT_EQ(self_calls, 1);
  EXPECT_EQ(other_calls, 1);
  EXPECT_EQ(self->state(), EventState::kActive);
  ASSERT_TRUE(run_until(base_, [&] { return self_calls == 3; }));
  EXPECT_EQ(other_calls, 3);
  EXPECT_EQ(self->state(), EventState::kInitialized);
}

TEST_P(OnceAndActivate, PersistentEventActivatedManuallyStaysPending) {
  SocketPair sp;
  int calls = 0;
  Event ev(base_, sp.a.get(), kRead | kPersist, [&](int, EventFlags fired) {
    EXPECT_EQ(fired, kWrite);
    ++calls;
  });
  ev.add();
  ev.activate(kWrite);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ev.state(), EventState::kPending);
  ev.del();
}

REACTORD_BACKEND_SUITE(OnceAndActivate);

}  // namespace
}  // namespace reactord::test_support
