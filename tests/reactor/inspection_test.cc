// Inspection: snapshot(), counts(), stats(), and the string helpers.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "histogram_bucket.h"  // reactor/src: the loop's inline record
#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

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
  EXPECT_EQ(flags_to_string(EventFlags{}), "0");
  EXPECT_EQ(flags_to_string(kRead | EventFlags{0x100}), "READ|0x100");
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

// record() finds the bucket without a search up to 256 us (histogram_bucket): every duration
// still lands in the first bucket whose bound holds it, checked against the bounds themselves
// at each bound, one either side, and every microsecond up to 300.
TEST(InspectionStrings, HistogramBucketIsTheFirstBoundThatHoldsTheDuration) {
  constexpr auto& bounds = DurationHistogram::kBoundsUs;
  auto first_holding = [](std::int64_t us) {
    std::size_t i = 0;
    while (i < bounds.size() && us > bounds[i]) ++i;
    return i;
  };
  std::vector<std::int64_t> probes = {-5, std::numeric_limits<std::int64_t>::max()};
  for (std::int64_t us = 0; us <= 300; ++us) probes.push_back(us);
  for (std::int64_t bound : bounds) {
    for (std::int64_t us : {bound - 1, bound, bound + 1}) probes.push_back(us);
  }
  for (std::int64_t us : probes) {
    DurationHistogram h;
    h.record(Duration(us));
    const std::size_t expected = first_holding(us);
    EXPECT_EQ(h.counts[expected], 1u) << us << " us";
    EXPECT_EQ(detail::histogram_bucket(us), expected) << us << " us";
  }
  EXPECT_EQ(detail::histogram_bucket(4), 1u);
  EXPECT_EQ(detail::histogram_bucket(5), 2u);
  EXPECT_EQ(detail::histogram_bucket(256), 4u);
  EXPECT_EQ(detail::histogram_bucket(257), 5u);
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
  // No second block per event, and smaller than libevent's struct event (128 B on x86-64):
  // a function pointer and its argument, no inspection fields (issue #19).
  EXPECT_EQ(sizeof(Event), sizeof(detail::TimedEventCore));
  EXPECT_LE(sizeof(Event), 112u);
  // Without the timer part (a BufferEvent's read event): 32 bytes less.
  EXPECT_EQ(sizeof(detail::EventCore), 80u);
}

// The libevent form: a function pointer and an argument, nothing allocated for it.
TEST_P(Inspection, FunctionPointerEventRunsWithItsArgument) {
  SocketPair sp;
  struct Seen {
    int fd = -2;
    EventFlags fired{};
    int calls = 0;
  } seen;
  Event ev(
      base_, sp.a.get(), kRead,
      [](int fd, EventFlags fired, void* arg) {
        auto* s = static_cast<Seen*>(arg);
        s->fd = fd;
        s->fired = fired;
        ++s->calls;
      },
      &seen);
  EXPECT_FALSE(ev.callback());  // no std::function behind it
  EXPECT_EQ(ev.function_arg(), &seen);
  EXPECT_NE(ev.function(), nullptr);
  EXPECT_STREQ(ev.label(), "");
  EXPECT_EQ(ev.owner(), 0u);
  ev.add();
  ASSERT_EQ(::write(sp.b.get(), "x", 1), 1);
  base_.loop(kLoopOnce);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.fd, sp.a.get());
  EXPECT_EQ(seen.fired, kRead);
  // A std::function event says what it holds.
  Event fn_ev(base_, -1, EventFlags{}, [](int, EventFlags) {});
  EXPECT_TRUE(fn_ev.callback());
}

// Events are found through the fd table, the signal table and the loose list (no link per
// event to a list of all of them): every transition between those keeps each event listed
// once, with its tag.
TEST_P(Inspection, SnapshotFollowsEventsAcrossTables) {
  SocketPair sp;
  Event r(base_, sp.a.get(), kRead | kPersist, [](int, EventFlags) {});
  Event w(base_, sp.a.get(), kWrite | kPersist, [](int, EventFlags) {});
  auto t = Event::timer(base_, [](int, EventFlags) {});
  auto sig = Event::signal(base_, SIGUSR2, [](int, EventFlags) {});
  r.set_owner(7);
  r.set_label("r");
  w.set_label("w");
  t->set_owner(9);
  auto count_of = [&](std::uint64_t id) {
    auto snap = base_.snapshot();
    return std::count_if(snap.begin(), snap.end(), [id](const EventInfo& e) { return e.id == id; });
  };
  auto check_once = [&] {
    for (std::uint64_t id : {r.id(), w.id(), t->id(), sig->id()}) EXPECT_EQ(count_of(id), 1) << id;
  };
  check_once();
  r.add();
  w.add();
  t->add(Duration(1h));
  sig->add();
  check_once();
  r.del();
  check_once();
  sig->del();
  w.activate(kWrite);  // pending and active
  check_once();
  w.del();
  r.add();
  check_once();
  auto snap = base_.snapshot();
  auto info = *std::find_if(snap.begin(), snap.end(), [&](const EventInfo& e) { return e.id == r.id(); });
  EXPECT_EQ(info.owner, 7u);
  EXPECT_EQ(info.label, "r");
  EXPECT_EQ(info.state, EventState::kPending);
  EXPECT_EQ(r.owner(), 7u);
  EXPECT_STREQ(w.label(), "w");
  EXPECT_EQ(t->owner(), 9u);
  r.del();
  t->del();
}

// Owner tags live in the base's side table: an event destroyed takes its entry along, and a
// new event at the same address starts untagged.
TEST_P(Inspection, TagsGoWithTheirEvent) {
  for (int i = 0; i < 3; ++i) {
    auto t = Event::timer(base_, [](int, EventFlags) {});
    EXPECT_EQ(t->owner(), 0u);
    EXPECT_STREQ(t->label(), "");
    t->set_owner(100 + i);
    t->set_label("tagged");
    EXPECT_EQ(t->owner(), static_cast<std::uint64_t>(100 + i));
  }
  const auto snap = base_.snapshot();
  EXPECT_TRUE(std::none_of(snap.begin(), snap.end(), [](const EventInfo& e) { return e.label == "tagged"; }));
}

REACTORD_BACKEND_SUITE(Inspection);

}  // namespace
}  // namespace reactord::test_support
