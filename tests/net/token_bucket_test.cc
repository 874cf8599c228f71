// Token bucket arithmetic (libevent's ev_token_bucket_cfg_new / _init / _update): a plain
// value driven by tick numbers chosen by the test, so every edge is exact.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "reactor/rate_limit.h"

namespace {

using namespace reactor;
using namespace std::chrono_literals;

TEST(TokenBucketConfigTest, RefusesWhatLibeventRefuses) {
  EXPECT_TRUE(TokenBucketConfig::make(100, 100, 1, 1).has_value());
  EXPECT_FALSE(TokenBucketConfig::make(0, 100, 1, 1).has_value()) << "a rate of 0";
  EXPECT_FALSE(TokenBucketConfig::make(1, 1, 0, 1).has_value()) << "a write rate of 0";
  EXPECT_FALSE(TokenBucketConfig::make(200, 100, 1, 1).has_value()) << "rate above burst";
  EXPECT_FALSE(TokenBucketConfig::make(1, 1, 200, 100).has_value()) << "write rate above burst";
  EXPECT_FALSE(TokenBucketConfig::make(1, kRateLimitMax + 1, 1, 1).has_value())
      << "burst above EV_RATE_LIMIT_MAX";
  EXPECT_TRUE(TokenBucketConfig::make(kRateLimitMax, kRateLimitMax, 1, 1).has_value());
  EXPECT_FALSE(TokenBucketConfig::make(1, 1, 1, 1, 500us).has_value()) << "tick under 1 ms";
  EXPECT_EQ(TokenBucketConfig::make(1, 2, 3, 4)->tick, std::chrono::seconds(1)) << "libevent's default tick";
}

TEST(TokenBucketTest, StartsWithOneTicksWorthNotTheBurst) {
  const auto cfg = *TokenBucketConfig::make(100, 1000, 10, 50);
  TokenBucket b;
  b.init(cfg, 7, false);
  EXPECT_EQ(b.read_limit, 100);
  EXPECT_EQ(b.write_limit, 10);
  EXPECT_EQ(b.last_updated, 7u);
}

TEST(TokenBucketTest, GainsRatePerTickUpToBurst) {
  const auto cfg = *TokenBucketConfig::make(100, 1000, 10, 50);
  TokenBucket b;
  b.init(cfg, 0, false);
  b.read_limit = 0;
  b.write_limit = 0;
  EXPECT_FALSE(b.update(cfg, 0)) << "no tick elapsed";
  EXPECT_TRUE(b.update(cfg, 3));
  EXPECT_EQ(b.read_limit, 300);
  EXPECT_EQ(b.write_limit, 30);
  EXPECT_TRUE(b.update(cfg, 100));
  EXPECT_EQ(b.read_limit, 1000) << "capped at the burst";
  EXPECT_EQ(b.write_limit, 50);
}

TEST(TokenBucketTest, PaysADebtBeforeGrowing) {
  const auto cfg = *TokenBucketConfig::make(100, 1000, 10, 50);
  TokenBucket b;
  b.init(cfg, 0, false);
  b.read_limit = -250;  // a group member took its min share from an empty bucket
  b.update(cfg, 2);
  EXPECT_EQ(b.read_limit, -50);
  b.update(cfg, 3);
  EXPECT_EQ(b.read_limit, 50);
}

TEST(TokenBucketTest, ClockGoingBackOrWrappingDoesNotMintTokens) {
  const auto cfg = *TokenBucketConfig::make(100, 1000, 10, 50);
  TokenBucket b;
  b.init(cfg, 1000, false);
  b.read_limit = 0;
  EXPECT_FALSE(b.update(cfg, 999)) << "time went back";
  EXPECT_EQ(b.read_limit, 0);
  // A tick counter that wraps still counts forward.
  b.last_updated = std::numeric_limits<std::uint32_t>::max();
  EXPECT_TRUE(b.update(cfg, 1));
  EXPECT_EQ(b.read_limit, 200);
}

TEST(TokenBucketTest, HugeGapsDoNotOverflow) {
  const auto cfg = *TokenBucketConfig::make(kRateLimitMax, kRateLimitMax, kRateLimitMax, kRateLimitMax);
  TokenBucket b;
  b.init(cfg, 0, false);
  b.read_limit = -5;
  EXPECT_TRUE(b.update(cfg, 0x7fffffff));
  EXPECT_EQ(b.read_limit, static_cast<std::int64_t>(kRateLimitMax));
}

TEST(TokenBucketTest, ReinitializingOnlyClipsDown) {
  const auto big = *TokenBucketConfig::make(100, 1000, 100, 1000);
  const auto small = *TokenBucketConfig::make(50, 200, 50, 2000);
  TokenBucket b;
  b.init(big, 5, false);
  b.read_limit = 900;
  b.write_limit = 900;
  b.init(small, 9, true);
  EXPECT_EQ(b.read_limit, 200) << "clipped to the new burst";
  EXPECT_EQ(b.write_limit, 900) << "a bigger burst adds nothing now";
  EXPECT_EQ(b.last_updated, 5u) << "the next update pays the ticks since then";
}

TEST(TokenBucketTest, TickNumbersAreAlignedOnTheClock) {
  const auto cfg = *TokenBucketConfig::make(1, 1, 1, 1, 100ms);
  const TimePoint t0{std::chrono::milliseconds(12'300)};
  EXPECT_EQ(token_bucket_tick(t0, cfg), 123u);
  EXPECT_EQ(token_bucket_tick(t0 + 99ms, cfg), 123u);
  EXPECT_EQ(token_bucket_tick(t0 + 100ms, cfg), 124u);
}

}  // namespace
