// Inspection: snapshot(), counts(), stats(), and the string helpers.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>

#include "reactor_test_util.h"

namespace reactor::testing {
namespace {

class Inspection : public ReactorTest {};

TEST_P(Inspection, SnapshotListsEveryEventInIdOrder) {
  SocketPair sp;
  Event io(base_, sp.a.get(), kRead | kPersist, [](int, EventFlags) {});
  io.set_label("conn.read");
  io.set_owner(42);
  auto timer = Event::timer(base_, [](int, EventFlags) {});
  auto sig = Event::signal(base_, SIGUSR1, [](int, EventFlags) {});
  io.add();
  timer->add(Duration(1h));
  timer->activate(kTimeout);
  std::vector<EventInfo> snap = base_.snapshot();
  EXPECT_TRUE(std::is_sorted(snap.begin(), snap.end(),
                             [](const EventInfo& a, const EventInfo& b) { return a.id < b.id; }));
  auto find = [&](std::uint64_t id) {
    return *std::find_if(snap.begin(), snap.end(), [id](auto& i) { return i.id == id; });
  };
  EventInfo i = find(io.id());
  EXPECT_EQ(i.kind, EventKind::kIo);
  EXPECT_EQ(i.fd, sp.a.get());
  EXPECT_EQ(i.state, EventState::kPending);
  EXPECT_EQ(i.requested, kRead | kPersist);
  EXPECT_EQ(i.label, "conn.read");
  EXPECT_EQ(i.owner, 42u);
  EXPECT_FALSE(i.time_left.has_value());
  EventInfo t = find(timer->id());
  EXPECT_EQ(t.kind, EventKind::kTimer);
  EXPECT_EQ(t.state, EventState::kActive);
  EXPECT_EQ(t.fired, kTimeout);
  ASSERT_TRUE(t.time_left.has_value());
  EXPECT_GT(*t.time_left, Duration(59min));
  EventInfo s = find(sig->id());
  EXPECT_EQ(s.kind, EventKind::kSignal);
  EXPECT_EQ(s.signal, SIGUSR1);
  EXPECT_EQ(s.state, EventState::kInitialized);  // initialized events are listed too
  // The wakeup eventfd is there, as an internal event.
  EXPECT_TRUE(std::any_of(snap.begin(), snap.end(), [](const EventInfo& e) {
    return e.kind == EventKind::kInternal && e.label == "post.wakeup";
  }));
  EventCounts c = base_.counts();
  EXPECT_EQ(c.active, 1u);
  EXPECT_EQ(c.initialized, 1u);
  EXPECT_EQ(c.pending, 2u);  // io + the wakeup event
  EXPECT_EQ(c.internal, 1u);
  ASSERT_EQ(c.active_per_priority.size(), 1u);
  EXPECT_EQ(c.active_per_priority[0], 1u);
  io.del();
  timer->del();
}

TEST_P(Inspection, StatsCountIterationsCallbacksAndTime) {
  LoopStats before = base_.stats();
  int calls = 0;
  auto t = Event::timer(base_, [&](int, EventFlags) {
    ++calls;
    auto until = Clock::now() + 2ms;  // a measurably long callback
    while (Clock::now() < until) {}
  });
  t->add(Duration(5ms));
  base_.dispatch();
  LoopStats after = base_.stats();
  EXPECT_EQ(calls, 1);
  EXPECT_GE(after.iterations - before.iterations, 1u);
  EXPECT_EQ(after.callbacks - before.callbacks, 1u);
  EXPECT_GE(after.longest_callback, Duration(2ms));
  EXPECT_GE(after.callback_time, Duration(2ms));
  EXPECT_GE(after.poll_wait, Duration(1ms));  // it blocked for the timer
  // Internal callbacks are timed too, so the histogram holds at least the user ones.
  EXPECT_GE(after.callback_histogram.total, after.callbacks);
  std::uint64_t over_1ms = 0;  // buckets above 1 ms (a loaded machine may stretch 2 ms)
  for (std::size_t i = 6; i < after.callback_histogram.counts.size(); ++i) {
    over_1ms += after.callback_histogram.counts[i];
  }
  EXPECT_GE(over_1ms, 1u);
  EXPECT_EQ(after.poll_wait_histogram.total, after.iterations);
}

TEST(InspectionStrings, FlagsAndStates) {
  EXPECT_EQ(flags_to_string(kRead | kWrite | kPersist), "READ|WRITE|PERSIST");
  EXPECT_EQ(flags_to_string(kTimeout), "TIMEOUT");
  EXPECT_EQ(flags_to_string(kSignal | kET | kClosed), "SIGNAL|ET|CLOSED");
  EXPECT_EQ(flags_to_string(0), "0");
  EXPECT_EQ(flags_to_string(kRead | 0x100), "READ|0x100");
  EXPECT_STREQ(to_string(EventState::kInitialized), "initialized");
  EXPECT_STREQ(to_string(EventState::kPending), "pending");
  EXPECT_STREQ(to_string(EventState::kActive), "active");
  EXPECT_STREQ(to_string(EventKind::kIo), "io");
  EXPECT_STREQ(to_string(EventKind::kSignal), "signal");
  EXPECT_STREQ(to_string(EventKind::kTimer), "timer");
  EXPECT_STREQ(to_string(EventKind::kInternal), "internal");
  EXPECT_STREQ(to_string(Backend::kEpoll), "epoll");
  EXPECT_STREQ(to_string(Backend::kPoll), "poll");
}

TEST(InspectionStrings, HistogramBuckets) {
  DurationHistogram h;
  h.record(Duration(0));        // <= 1 us
  h.record(Duration(1));        // <= 1 us
  h.record(Duration(2));        // <= 4 us
  h.record(Duration(1000));     // <= 1000 us
  h.record(Duration(5000000));  // +Inf
  EXPECT_EQ(h.counts[0], 2u);
  EXPECT_EQ(h.counts[1], 1u);
  EXPECT_EQ(h.counts[5], 1u);
  EXPECT_EQ(h.counts[11], 1u);
  EXPECT_EQ(h.total, 5u);
  EXPECT_EQ(h.sum, Duration(5001003));
}

TEST(BackendChoice, ConfigThenEnvironment) {
  EXPECT_EQ(EventBase(EventBaseConfig{Backend::kPoll, 1}).backend(), Backend::kPoll);
  ::setenv("REACTOR_BACKEND", "poll", 1);
  EXPECT_EQ(EventBase().backend(), Backend::kPoll);
  EXPECT_STREQ(EventBase().backend_name(), "poll");
  EXPECT_EQ(EventBase(EventBaseConfig{Backend::kEpoll, 1}).backend(), Backend::kEpoll);
  ::unsetenv("REACTOR_BACKEND");
  EXPECT_EQ(EventBase().backend(), Backend::kEpoll);
  ::setenv("REACTOR_NOEPOLL", "1", 1);
  EXPECT_EQ(EventBase().backend(), Backend::kPoll);
  ::unsetenv("REACTOR_NOEPOLL");
}

TEST(EventFootprint, EventHoldsItsStateInPlace) {
  // No second block per event, and no bigger than libevent's struct event (128 B on x86-64)
  // plus the std::function (32 B) that replaces its callback pointer and argument.
  EXPECT_EQ(sizeof(Event), sizeof(detail::EventCore));
  EXPECT_LE(sizeof(Event), 168u);
}

REACTOR_BACKEND_SUITE(Inspection);

}  // namespace
}  // namespace reactor::testing
