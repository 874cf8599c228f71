// IdleTracker: one timer for every connection of a loop, oldest activity first.
#include "server/idle_tracker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "reactor/event_base.h"
#include "reactor/sys_calls.h"
#include "support/loop.h"
#include "support/manual_clock.h"

namespace reactord {
namespace {

using namespace std::chrono_literals;

struct Item : IdleTracker::Hook {
  int id = 0;
};

using reactord::test_support::run_until;  // tests/support/loop.h

TEST(IdleTracker, ExpiresInOrderOfLastActivityWithOneTimer) {
  reactor::EventBase base;
  std::vector<int> expired;
  IdleTracker tracker(base, 30ms, [&](IdleTracker::Hook& h) { expired.push_back(static_cast<Item&>(h).id); });
  Item a, b, c;
  a.id = 1;
  b.id = 2;
  c.id = 3;
  EXPECT_FALSE(a.idle_linked());
  tracker.touch(a);
  tracker.touch(b);
  tracker.touch(c);
  // Activity counts per granule (< 0.1 % of the timeout, see the last test): a's next touch
  // must fall in a later one than its first to move it. A spin of at most one granule (16 µs).
  while (base.now() <= a.idle_since) {}
  // The last activity: no item may expire sooner than 30 ms after it. (Timed from here, not
  // after the checks below: an exact timer fires 30 ms after the touch, which is less than
  // 30 ms after any later instant.)
  const auto start = reactor::Clock::now();
  tracker.touch(a);  // activity: a moves behind c
  EXPECT_TRUE(a.idle_linked());
  EXPECT_EQ(tracker.size(), 3u);
  tracker.remove(b);  // closed: never expires
  EXPECT_FALSE(b.idle_linked());
  int timers = 0;
  for (const auto& e : base.snapshot()) timers += e.label == std::string("idle.sweep");
  EXPECT_EQ(timers, 1);
  ASSERT_TRUE(run_until(base, [&] { return expired.size() == 2; }));
  EXPECT_GE(reactor::Clock::now() - start, 30ms);
  EXPECT_EQ(expired, (std::vector<int>{3, 1}));
  EXPECT_EQ(tracker.size(), 0u);
  EXPECT_FALSE(a.idle_linked());
  EXPECT_EQ(tracker.timer().state(), reactor::EventState::kInitialized);  // nothing to watch
}

TEST(IdleTracker, TouchedAgainWhileExpiringWaitsAWholeTimeout) {
  reactor::EventBase base;
  Item a;
  int expiries = 0;
  reactor::TimePoint first{}, second{};
  IdleTracker* self = nullptr;
  IdleTracker tracker(base, 20ms, [&](IdleTracker::Hook& h) {
    ++expiries;
    if (expiries == 1) {
      first = base.now();
      self->touch(h);  // still busy: keep it, not expired again in this sweep
    } else {
      second = base.now();
    }
  });
  self = &tracker;
  tracker.touch(a);
  ASSERT_TRUE(run_until(base, [&] { return expiries == 2; }));
  EXPECT_GE(second - first, 20ms);
  EXPECT_EQ(tracker.deadline_of(a), a.idle_since + 20ms);
}

// Activity is kept per granule (<= 1/1024 of the timeout): a busy connection touched again in
// the granule of its last touch keeps its place, which costs no list move (issue #19); a touch
// in a later granule moves it behind everything touched before. Deadlines are never early.
TEST(IdleTracker, TouchesWithinOneGranuleKeepTheOrderAndNeverExpireEarly) {
  test_support::ManualClock clock;
  reactor::ScopedSysCalls installed(clock);
  reactor::EventBase base;
  std::vector<int> expired;
  const auto timeout = 1024ms;
  IdleTracker tracker(base, timeout,
                      [&](IdleTracker::Hook& h) { expired.push_back(static_cast<Item&>(h).id); });
  // 1024 ms / 1024 = 1 ms; the largest power of two of ns below it is 2^19 ns.
  const std::chrono::nanoseconds g = tracker.granule();
  EXPECT_EQ(g, std::chrono::nanoseconds(1 << 19));
  EXPECT_EQ(IdleTracker(base, 1us, [](IdleTracker::Hook&) {}).granule(), std::chrono::nanoseconds(1));
  auto advance_to = [&](reactor::TimePoint t) { clock.advance(t - base.now()); };
  // Start just past a granule boundary B: activity until B + g rounds up to B + g.
  const auto since_epoch = base.now().time_since_epoch();
  const reactor::TimePoint boundary = base.now() + (g - since_epoch % g);
  advance_to(boundary + 1ns);
  Item a, b, c;
  a.id = 1;
  b.id = 2;
  c.id = 3;
  tracker.touch(a);
  tracker.touch(b);
  tracker.touch(c);
  EXPECT_EQ(a.idle_since, boundary + g);
  advance_to(boundary + g / 2);
  const reactor::TimePoint a_last = base.now();
  tracker.touch(a);  // same granule: a keeps its place at the head (no move)
  EXPECT_EQ(a.idle_since, boundary + g);
  advance_to(boundary + g + g / 2);
  tracker.touch(b);  // a later granule: b moves behind c
  EXPECT_EQ(b.idle_since, boundary + 2 * g);
  // Never early: nothing expires at a's exact deadline (timeout after its last activity).
  advance_to(a_last + timeout + 1us);
  base.loop(reactor::kLoopNonblock);
  EXPECT_TRUE(expired.empty());
  // At the rounded deadline a and c expire, in list order (a was not moved behind b and c).
  advance_to(boundary + g + timeout + 2us);
  base.loop(reactor::kLoopNonblock);
  EXPECT_EQ(expired, (std::vector<int>{1, 3}));
  advance_to(boundary + 2 * g + timeout + 2us);
  base.loop(reactor::kLoopNonblock);
  EXPECT_EQ(expired, (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(tracker.size(), 0u);
}

}  // namespace
}  // namespace reactord
