// BufferEvent rate limits over real loopback sockets, both backends: a BufferEvent's own
// bucket (reading and writing suspended while empty, resumed at the next tick), changes at run
// time, and groups. There is no clock seam in the reactor, so the loop runs in real time and
// the assertions are on token accounting — bytes moved against the ticks the base's clock has
// seen (token_bucket_tick of base.now()) — never on elapsed wall time.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "net_test_support.h"
#include "reactor/buffer_event.h"
#include "reactor/rate_limit.h"

namespace {

using namespace reactor;
using reactord::test_support::run_until;
using namespace std::chrono_literals;

class BufferEventRateLimitTest : public reactord::test_support::BackendTest {
 protected:
  // A BufferEvent on the server end of a loopback pair, and the test's raw peer.
  struct Conn {
    std::unique_ptr<BufferEvent> bev;
    std::unique_ptr<reactord::test_support::Peer> peer;
  };
  Conn make_conn() {
    auto pair = reactord::test_support::tcp_pair();
    Conn c;
    c.bev = std::make_unique<BufferEvent>(base_, pair.server.release(), kBevOptCloseOnFree);
    c.peer = std::make_unique<reactord::test_support::Peer>(base_, std::move(pair.client));
    return c;
  }
  std::uint32_t tick(const TokenBucketConfig& cfg) { return token_bucket_tick(base_.now(), cfg); }
};

// Sends all of `data` from the peer, letting the loop run between short sends.
void send_all(EventBase& base, reactord::test_support::Peer& peer, const std::string& data) {
  std::size_t sent = 0;
  ASSERT_TRUE(run_until(base, [&] {
    sent += peer.send(std::string_view(data).substr(sent));
    return sent == data.size();
  }));
}

TEST_P(BufferEventRateLimitTest, ReadingStopsWhenTheBucketIsEmptyAndResumesEachTick) {
  const auto cfg = *TokenBucketConfig::make(1000, 1000, 1000, 1000, 20ms);
  Conn c = make_conn();
  ASSERT_TRUE(c.bev->set_rate_limit(cfg));
  const std::uint32_t first_tick = tick(cfg);
  std::vector<std::size_t> reads;
  std::uint64_t violations = 0;
  c.bev->setcb(
      [&](BufferEvent& b) {
        reads.push_back(b.input().length());
        b.input().drain(b.input().length());
        // Never more than one tick's worth per tick seen (plus the first tick's allowance).
        const std::uint64_t allowed = 1000ull * (tick(cfg) - first_tick + 1);
        if (b.bytes_read() > allowed) ++violations;
      },
      {}, {});
  c.bev->enable(kRead);
  const std::string data(8000, 'r');
  send_all(base_, *c.peer, data);
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->bytes_read() >= 1000; }));
  // The first read took exactly the starting tokens and emptied the bucket: suspended.
  EXPECT_EQ(reads.front(), 1000u);
  if (c.bev->bytes_read() == 1000) {  // (unless the next tick already came)
    EXPECT_TRUE(c.bev->read_throttled());
    EXPECT_EQ(c.bev->max_to_read(), 0u);
  }
  ASSERT_TRUE(run_until(
      base_, [&] { return c.bev->bytes_read() == data.size(); }, 10s));
  EXPECT_EQ(violations, 0u);
  for (const std::size_t n : reads) EXPECT_LE(n, 1000u) << "one read never exceeds the bucket";
  EXPECT_GE(reads.size(), 8u);
  EXPECT_GE(tick(cfg) - first_tick, 7u) << "8000 bytes at 1000 per tick need 7 refills";
  EXPECT_GT(c.bev->throttled_time(), Duration::zero());
  EXPECT_GT(c.bev->bytes_delayed(), 0u);
}

TEST_P(BufferEventRateLimitTest, WritesAreBoundedAndFlushedTickByTick) {
  const auto cfg = *TokenBucketConfig::make(100000, 100000, 2000, 2000, 20ms);
  Conn c = make_conn();
  ASSERT_TRUE(c.bev->set_rate_limit(cfg));
  const std::uint32_t first_tick = tick(cfg);
  c.peer->start_reading();
  std::string data(12000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  c.bev->write(data);
  // Write at once sends what the bucket allows and no more.
  EXPECT_EQ(c.bev->bytes_written(), 2000u);
  EXPECT_TRUE(c.bev->write_throttled());
  EXPECT_EQ(c.bev->output().length(), 10000u);
  std::uint64_t violations = 0;
  ASSERT_TRUE(run_until(
      base_,
      [&] {
        if (c.bev->bytes_written() > 2000ull * (tick(cfg) - first_tick + 1)) ++violations;
        return c.peer->received().size() == data.size();
      },
      10s));
  EXPECT_EQ(c.peer->received(), data) << "byte-exact";
  EXPECT_EQ(violations, 0u);
  EXPECT_GE(tick(cfg) - first_tick, 5u);
  EXPECT_FALSE(c.bev->read_throttled()) << "reading has its own bucket";
}

TEST_P(BufferEventRateLimitTest, RemovingTheLimitResumesAtOnce) {
  // A one-hour tick: after the first 500 bytes only removing the limit lets the rest through.
  const auto cfg = *TokenBucketConfig::make(500, 500, 500, 500, std::chrono::hours(1));
  Conn c = make_conn();
  ASSERT_TRUE(c.bev->set_rate_limit(cfg));
  c.bev->setcb([](BufferEvent& b) { b.input().drain(b.input().length()); }, {}, {});
  c.bev->enable(kRead);
  send_all(base_, *c.peer, std::string(5000, 'x'));
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->read_throttled(); }));
  EXPECT_EQ(c.bev->bytes_read(), 500u);
  reactord::test_support::step(base_, 20);
  EXPECT_EQ(c.bev->bytes_read(), 500u) << "suspended until the next tick";
  ASSERT_TRUE(c.bev->set_rate_limit(std::nullopt));
  EXPECT_FALSE(c.bev->read_throttled());
  EXPECT_FALSE(c.bev->rate_limit().has_value());
  EXPECT_EQ(c.bev->read_limit(), std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->bytes_read() == 5000; }));
}

TEST_P(BufferEventRateLimitTest, ReplacingTheLimitClipsTokensAndAppliesTheNewRate) {
  const auto hour = std::chrono::hours(1);
  Conn c = make_conn();
  ASSERT_TRUE(c.bev->set_rate_limit(*TokenBucketConfig::make(1000, 5000, 1000, 5000, hour)));
  EXPECT_EQ(c.bev->read_limit(), 1000);
  ASSERT_TRUE(c.bev->decrement_read_limit(-3000));  // give tokens back
  EXPECT_EQ(c.bev->read_limit(), 4000);
  ASSERT_TRUE(c.bev->set_rate_limit(*TokenBucketConfig::make(1000, 2000, 1000, 2000, hour)));
  EXPECT_EQ(c.bev->read_limit(), 2000) << "clipped down to the new burst";
  EXPECT_EQ(c.bev->write_limit(), 1000) << "never raised by a new config";
  EXPECT_FALSE(c.bev->set_rate_limit(TokenBucketConfig{0, 0, 1, 1, hour})) << "invalid: refused";
  EXPECT_EQ(c.bev->rate_limit()->read_burst, 2000u) << "the previous limit stands";

  // Taking more than there is suspends; giving back resumes.
  c.bev->setcb([](BufferEvent& b) { b.input().drain(b.input().length()); }, {}, {});
  c.bev->enable(kRead);
  ASSERT_TRUE(c.bev->decrement_read_limit(2500));
  EXPECT_EQ(c.bev->read_limit(), -500);
  EXPECT_TRUE(c.bev->read_throttled());
  send_all(base_, *c.peer, std::string(100, 'y'));
  reactord::test_support::step(base_, 20);
  EXPECT_EQ(c.bev->bytes_read(), 0u);
  ASSERT_TRUE(c.bev->decrement_read_limit(-600));
  EXPECT_FALSE(c.bev->read_throttled());
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->bytes_read() == 100; }));
}

TEST_P(BufferEventRateLimitTest, WithoutALimitNothingIsCountedOrThrottled) {
  Conn c = make_conn();
  c.bev->setcb([](BufferEvent& b) { b.input().drain(b.input().length()); }, {}, {});
  c.bev->enable(kRead);
  send_all(base_, *c.peer, std::string(200000, 'z'));
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->bytes_read() == 200000; }));
  EXPECT_FALSE(c.bev->decrement_read_limit(1)) << "no bucket to decrement";
  EXPECT_EQ(c.bev->max_to_read(), 64u * 1024);
  EXPECT_EQ(c.bev->throttled_time(), Duration::zero());
  EXPECT_EQ(c.bev->bytes_delayed(), 0u);
  EXPECT_EQ(c.bev->rate_limit_group(), nullptr);
}

// ---- Groups -------------------------------------------------------------------------------

TEST_P(BufferEventRateLimitTest, AGroupSharesOneBucketFairly) {
  constexpr int kMembers = 4;
  constexpr std::size_t kRate = 4000;  // per 20 ms tick, shared by all
  const auto cfg = *TokenBucketConfig::make(kRate, kRate, kRate, kRate, 20ms);
  RateLimitGroup group(base_, cfg);
  std::vector<Conn> conns;
  for (int i = 0; i < kMembers; ++i) {
    conns.push_back(make_conn());
    BufferEvent& b = *conns.back().bev;
    b.add_to_rate_limit_group(group);
    b.setcb([](BufferEvent& self) { self.input().drain(self.input().length()); }, {}, {});
    b.enable(kRead);
  }
  EXPECT_EQ(group.member_count(), static_cast<std::size_t>(kMembers));
  EXPECT_EQ(conns[0].bev->rate_limit_group(), &group);
  const std::uint32_t first_tick = tick(cfg);
  // Each member's peer keeps far more queued than the group lets through.
  const std::string chunk(16 * 1024, 'g');
  std::uint64_t violations = 0;
  std::uint64_t total = 0;
  ASSERT_TRUE(run_until(
      base_,
      [&] {
        for (Conn& c : conns) c.peer->send(chunk);
        total = 0;
        for (Conn& c : conns) total += c.bev->bytes_read();
        // Min share may overdraw the bucket by one share per member at most.
        if (total > kRate * (tick(cfg) - first_tick + 1) + kMembers * group.min_share()) ++violations;
        return tick(cfg) - first_tick >= 40;
      },
      20s, 10'000'000));
  EXPECT_EQ(violations, 0u);
  EXPECT_EQ(group.total_read(), total);
  const double fair = static_cast<double>(total) / kMembers;
  for (Conn& c : conns) {
    EXPECT_NEAR(static_cast<double>(c.bev->bytes_read()), fair, fair * 0.25) << "each near its fair share";
  }
  group.reset_totals();
  EXPECT_EQ(group.total_read(), 0u);
}

TEST_P(BufferEventRateLimitTest, AnEmptyGroupBucketSuspendsEveryMember) {
  const auto hour = std::chrono::hours(1);
  RateLimitGroup group(base_, *TokenBucketConfig::make(1000, 1000, 1000, 1000, hour));
  Conn a = make_conn();
  Conn b = make_conn();
  for (Conn* c : {&a, &b}) {
    c->bev->add_to_rate_limit_group(group);
    c->bev->setcb([](BufferEvent& self) { self.input().drain(self.input().length()); }, {}, {});
    c->bev->enable(kRead);
  }
  EXPECT_EQ(a.bev->max_to_read(), 500u) << "tokens / members";
  group.decrement_read(1000);
  EXPECT_TRUE(group.read_suspended());
  EXPECT_TRUE(a.bev->read_throttled());
  EXPECT_TRUE(b.bev->read_throttled());
  EXPECT_EQ(a.bev->max_to_read(), 0u);
  send_all(base_, *a.peer, std::string(300, 'a'));
  send_all(base_, *b.peer, std::string(300, 'b'));
  reactord::test_support::step(base_, 20);
  EXPECT_EQ(a.bev->bytes_read() + b.bev->bytes_read(), 0u);

  // Leaving the group resumes that member only.
  a.bev->remove_from_rate_limit_group();
  EXPECT_EQ(group.member_count(), 1u);
  EXPECT_FALSE(a.bev->read_throttled());
  ASSERT_TRUE(run_until(base_, [&] { return a.bev->bytes_read() == 300; }));
  EXPECT_EQ(b.bev->bytes_read(), 0u);

  // Giving tokens back resumes every member.
  group.decrement_read(-1000);
  EXPECT_FALSE(group.read_suspended());
  ASSERT_TRUE(run_until(base_, [&] { return b.bev->bytes_read() == 300; }));
  EXPECT_EQ(group.total_read(), 300u) << "only members count";
}

TEST_P(BufferEventRateLimitTest, MembersLeaveWhenClosedOrDestroyedAndAGroupReleasesItsMembers) {
  auto group = std::make_unique<RateLimitGroup>(base_, *TokenBucketConfig::make(10, 10, 10, 10));
  Conn a = make_conn();
  Conn b = make_conn();
  Conn c = make_conn();
  a.bev->add_to_rate_limit_group(*group);
  b.bev->add_to_rate_limit_group(*group);
  c.bev->add_to_rate_limit_group(*group);
  EXPECT_EQ(group->member_count(), 3u);
  a.bev->close_abortively();
  EXPECT_EQ(group->member_count(), 2u);
  b.bev.reset();
  EXPECT_EQ(group->member_count(), 1u);
  group->decrement_read(100);
  EXPECT_TRUE(c.bev->read_throttled());
  group.reset();  // the member stays usable and unlimited
  EXPECT_EQ(c.bev->rate_limit_group(), nullptr);
  EXPECT_FALSE(c.bev->read_throttled());
  c.bev->setcb([](BufferEvent& self) { self.input().drain(self.input().length()); }, {}, {});
  c.bev->enable(kRead);
  send_all(base_, *c.peer, std::string(5000, 'c'));
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->bytes_read() == 5000; }));
}

TEST_P(BufferEventRateLimitTest, GroupConfigAndMinShareChangeAtRunTime) {
  const auto hour = std::chrono::hours(1);
  RateLimitGroup group(base_, *TokenBucketConfig::make(1000, 4000, 1000, 4000, hour));
  EXPECT_EQ(group.min_share(), 64u) << "libevent's default";
  group.set_min_share(1'000'000);
  EXPECT_EQ(group.min_share(), 1000u) << "capped at one tick's rate";
  group.decrement_read(-3000);
  EXPECT_EQ(group.read_limit(), 4000);
  ASSERT_TRUE(group.set_config(*TokenBucketConfig::make(500, 1500, 500, 1500, hour)));
  EXPECT_EQ(group.read_limit(), 1500) << "clipped to the new burst";
  EXPECT_EQ(group.min_share(), 500u) << "min share follows the new rate";
  EXPECT_FALSE(group.set_config(TokenBucketConfig{5, 1, 1, 1, hour}));
  EXPECT_EQ(group.config().read_rate, 500u);
  EXPECT_THROW(RateLimitGroup(base_, TokenBucketConfig{}), std::invalid_argument);
  EventBase other;
  Conn c = make_conn();
  RateLimitGroup foreign(other, *TokenBucketConfig::make(1, 1, 1, 1));
  EXPECT_THROW(c.bev->add_to_rate_limit_group(foreign), std::logic_error);
}

TEST_P(BufferEventRateLimitTest, OwnBucketAndGroupBothApply) {
  const auto hour = std::chrono::hours(1);
  RateLimitGroup group(base_, *TokenBucketConfig::make(10000, 10000, 10000, 10000, hour));
  Conn c = make_conn();
  c.bev->add_to_rate_limit_group(group);
  ASSERT_TRUE(c.bev->set_rate_limit(*TokenBucketConfig::make(700, 700, 700, 700, hour)));
  EXPECT_EQ(c.bev->max_to_read(), 700u) << "the smaller of own bucket and group share";
  c.bev->setcb([](BufferEvent& self) { self.input().drain(self.input().length()); }, {}, {});
  c.bev->enable(kRead);
  send_all(base_, *c.peer, std::string(3000, 'o'));
  ASSERT_TRUE(run_until(base_, [&] { return c.bev->read_throttled(); }));
  EXPECT_EQ(c.bev->bytes_read(), 700u);
  EXPECT_EQ(group.read_limit(), 10000 - 700) << "the group is charged too";
  c.bev->remove_from_rate_limit_group();
  EXPECT_TRUE(c.bev->read_throttled()) << "the own bucket still holds it";
}

REACTORD_BACKEND_SUITE(BufferEventRateLimitTest);

}  // namespace
