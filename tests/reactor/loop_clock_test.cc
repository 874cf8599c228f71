// The loop's time between clock reads (LoopTiming::end_poll, issue #19): with CLOCK_MONOTONIC
// and no timer due within 2 ms, the time after a poll is the last clock read plus the TSC
// ticks since, for up to 1 ms. These tests drive the loop with one message per wakeup over a
// socketpair, as the echo benchmark does, and check that the time it caches follows the real
// clock, never goes back, costs few clock reads, and that timers still fire by the clock.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "reactor_test_util.h"
#include "support/manual_clock.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class LoopClock : public ReactorTest {};

// A ping-pong on a socketpair: every callback reads the byte that woke it and writes one back
// from the other end, so every iteration polls once and finds one fd ready. Each callback
// records the base's cached time and the real clock after it.
struct PingPong {
  SocketPair pair;
  std::unique_ptr<Event> reader;
  std::vector<TimePoint> cached;
  std::vector<TimePoint> real;
  std::function<void()> on_message;  // optional, runs in the callback after the records

  explicit PingPong(EventBase& base) {
    reader = std::make_unique<Event>(base, pair.a.get(), kRead | kPersist, [this, &base](int fd, EventFlags) {
      char c;
      EXPECT_EQ(::read(fd, &c, 1), 1);
      cached.push_back(base.now());
      real.push_back(Clock::now());
      if (on_message) on_message();
      EXPECT_EQ(::write(pair.b.get(), &c, 1), 1);
    });
    reader->add();
    WriteByte(pair.b.get());
  }
  // Steps the loop until `count` messages or `limit` of real time have gone by.
  void run(EventBase& base, std::size_t count, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (cached.size() < count && Clock::now() < until) base.loop(kLoopOnce);
  }
};

TEST_P(LoopClock, CachedTimeFollowsTheClockWithFewReads) {
  PingPong ping(base_);
  // 20 ms of history calibrates the tick rate (cycle_clock.h); 200,000 messages or 2 s bound it.
  ping.run(base_, 200'000, 60ms);
  const LoopStats before = base_.stats();
  const std::size_t first = ping.cached.size();
  ping.run(base_, first + 20'000, 2000ms);
  const LoopStats after = base_.stats();
  ASSERT_GE(ping.cached.size(), first + 1000) << "the ping-pong stalled";

  for (std::size_t i = first; i < ping.cached.size(); ++i) {
    // Never later than the clock read after it (plus far more than the nanoseconds the
    // extrapolation may be off by: a rate in the wrong unit would be off by a factor).
    EXPECT_LE(ping.cached[i], ping.real[i] + 50us) << "message " << i;
    // Never far behind it either: the poll returned just before the callback (a loaded or
    // sanitized run may be preempted in between, hence the wide bound).
    EXPECT_GE(ping.cached[i], ping.real[i] - 100ms) << "message " << i;
    // Never backwards.
    if (i > 0) {
      EXPECT_GE(ping.cached[i], ping.cached[i - 1]) << "message " << i;
    }
    if (HasFailure()) break;
  }
  // Far fewer clock reads than iterations: one per millisecond at most, against one per
  // iteration before (a message every few microseconds here; under a sanitizer tens).
  const std::uint64_t iterations = after.iterations - before.iterations;
  const std::uint64_t reads = after.clock_reads - before.clock_reads;
  EXPECT_GE(iterations, ping.cached.size() - first);
  EXPECT_LT(reads * 4, iterations) << reads << " clock reads in " << iterations << " iterations";
}

// A timer near (within 2 ms) makes every iteration read the clock, so it fires by the clock: a
// one-shot timer added from a callback fires no earlier than its timeout after the base's time
// at add(), measured on the real clock, while the socket traffic goes on.
TEST_P(LoopClock, TimerAmidTrafficFiresByTheClock) {
  PingPong ping(base_);
  ping.run(base_, 200'000, 40ms);  // calibrated, extrapolating

  std::optional<TimePoint> added_at;
  std::optional<TimePoint> fired_at;
  auto timer = Event::timer(base_, [&](int, EventFlags) { fired_at = Clock::now(); });
  ping.on_message = [&] {
    if (!added_at) {
      added_at = base_.now();
      timer->add(Duration(3ms));
    }
  };
  const auto until = Clock::now() + 2000ms;
  while (!fired_at && Clock::now() < until) base_.loop(kLoopOnce);
  ASSERT_TRUE(fired_at.has_value()) << "the timer did not fire within 2 s";
  EXPECT_GE(*fired_at, *added_at + 3ms);
}

// A test's clock (a SysCalls installed) is read at every poll: the loop never extrapolates past
// it, so a test that steps time sees exactly the time it set.
TEST_P(LoopClock, InstalledClockIsReadEveryIteration) {
  ManualClock clock;
  ScopedSysCalls installed(clock);
  PingPong ping(base_);
  ping.run(base_, 2000, 200ms);
  ASSERT_GE(ping.cached.size(), 100u);
  const LoopStats before = base_.stats();
  const std::size_t first = ping.cached.size();
  clock.advance(5ms);
  ping.run(base_, first + 100, 200ms);
  const LoopStats after = base_.stats();
  EXPECT_GE(after.clock_reads - before.clock_reads, after.iterations - before.iterations);
  for (std::size_t i = first; i < ping.cached.size(); ++i) EXPECT_EQ(ping.cached[i], ping.cached[first]);
}

REACTORD_BACKEND_SUITE(LoopClock);

}  // namespace
}  // namespace reactord::test_support
