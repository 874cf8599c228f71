// IdleTracker: one timer for every connection of a loop, oldest activity first.
#include "server/idle_tracker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "reactor/event_base.h"
#include "support/loop.h"

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

}  // namespace
}  // namespace reactord
