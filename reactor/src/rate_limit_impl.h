// The state behind rate limits: a BufferEvent's limit (libevent's struct
// bufferevent_rate_limit) and a group (struct bufferevent_rate_limit_group). Shared by
// rate_limit.cc (buckets, groups) and buffer_event_rate_limit.cc (the BufferEvent side).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "buffer_event_impl.h"
#include "reactor/event.h"
#include "reactor/rate_limit.h"

namespace reactor {

// Why a direction is suspended (libevent's BEV_SUSPEND_BW / BEV_SUSPEND_BW_GROUP).
inline constexpr std::uint8_t kThrottledByBucket = 0x01;
inline constexpr std::uint8_t kThrottledByGroup = 0x02;

// One BufferEvent's limit: held in its Extras, created by the first set_rate_limit or
// add_to_rate_limit_group, so a connection without limits pays nothing for it.
struct BufferEventRateLimit {
  std::optional<TokenBucketConfig> cfg;
  TokenBucket bucket;
  RateLimitGroup::Impl* group = nullptr;
  std::size_t group_index = 0;     // position in group->members (O(1) removal)
  std::unique_ptr<Event> refill;   // "bev.refill": next tick for an exhausted own bucket
  std::uint8_t read_throttle = 0;  // kThrottledBy* bits
  std::uint8_t write_throttle = 0;
  bool read_waited = false;  // suspended since the last read: the next one was delayed
  bool write_waited = false;
  TimePoint throttled_since{};  // valid while a direction is throttled
  Duration throttled_total{};
  std::uint64_t bytes_delayed = 0;
};

struct RateLimitGroup::Impl {
  Impl(RateLimitGroup& o, EventBase& b, const TokenBucketConfig& c);

  void update_tokens();
  // Share of one member for its next read / write (libevent: tokens / members, at least min
  // share); 0 while the group is suspended.
  std::int64_t share(bool write) const;
  // A member moved `bytes`: counted in the totals, taken from the tokens.
  void charge(bool write, std::int64_t bytes);
  // Tokens taken (or given back, negative); suspends or resumes every member.
  void adjust(bool write, std::int64_t bytes);
  void suspend(bool write);
  void resume(bool write);
  void on_tick();
  void add_member(BufferEvent::Impl* member);
  void remove_member(BufferEvent::Impl* member);
  void apply_min_share();

  RateLimitGroup* owner;
  EventBase* base;
  TokenBucketConfig cfg;
  TokenBucket bucket;
  std::unique_ptr<Event> tick_timer;  // "ratelimit.group": refills every tick while it has members
  std::vector<BufferEvent::Impl*> members;
  std::size_t configured_min_share = 64;
  std::int64_t min_share = 64;
  std::uint64_t total_read = 0;
  std::uint64_t total_written = 0;
  std::uint32_t random_state;  // libevent's weakrand: where a resume round starts
  bool read_suspended = false;
  bool write_suspended = false;
};

}  // namespace reactor
