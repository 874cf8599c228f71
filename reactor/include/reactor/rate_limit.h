// Rate limits for BufferEvents: libevent's ev_token_bucket_cfg, its token bucket, and
// bufferevent_rate_limit_group (bufferevent_ratelim.c), with the same semantics:
//
// - A bucket holds tokens (bytes) per direction. It starts with one tick's worth (`rate`, not
//   `burst`), gains `rate` per elapsed tick, never holds more than `burst`.
// - A BufferEvent reads / writes at most what its bucket holds (and its group share). When a
//   bucket reaches zero that direction is suspended — the read event is removed, the write
//   event disarmed — and resumed by a timer at the next tick that leaves the bucket positive.
// - A group has a bucket of its own shared by its members. Each read or write of a member
//   takes at most `group tokens / members` (but at least the group's min share, 64 bytes by
//   default, as libevent). When the group bucket is empty, every member is suspended; at the
//   next tick that gives the group at least min share, all are resumed, starting from a
//   random member and going round (libevent's FOREACH_RANDOM_ORDER), so no member is always
//   first in line. A member can take min share from a nearly empty bucket, so the group
//   bucket may go negative by a little; the debt is paid from the next ticks.
// - Changing a configuration at run time clips the current tokens down to the new burst (as
//   ev_token_bucket_init with reinitialize): the bytes of the current tick are already spent.
//
// Time: ticks are counted on the monotonic clock of the EventBase (its cached now()): tick n
// is [n * tick, (n + 1) * tick) since the clock's epoch, so all buckets with the same tick
// length refill together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "reactor/clock.h"

namespace reactor {

class EventBase;
class BufferEvent;

// EV_RATE_LIMIT_MAX: rates and bursts above this are refused.
inline constexpr std::size_t kRateLimitMax = 0x7fffffff;

// ev_token_bucket_cfg: bytes per tick and bucket size for each direction, and the tick length.
struct TokenBucketConfig {
  std::size_t read_rate = 0;
  std::size_t read_burst = 0;
  std::size_t write_rate = 0;
  std::size_t write_burst = 0;
  Duration tick = std::chrono::seconds(1);

  // ev_token_bucket_cfg_new's checks: every rate at least 1, rate <= burst, nothing above
  // kRateLimitMax, a tick of at least one millisecond (libevent counts ticks in msec).
  bool valid() const;
  // ev_token_bucket_cfg_new(read_rate, read_burst, write_rate, write_burst, tick_len):
  // nullopt where libevent returns NULL. Any thread.
  static std::optional<TokenBucketConfig> make(std::size_t read_rate, std::size_t read_burst,
                                               std::size_t write_rate, std::size_t write_burst,
                                               Duration tick = std::chrono::seconds(1));
  bool operator==(const TokenBucketConfig&) const = default;
};

// ev_token_bucket: the tokens of one limit, updated by tick number. A plain value, so its
// arithmetic is tested with ticks chosen by the test. Any thread (no shared state).
struct TokenBucket {
  std::int64_t read_limit = 0;
  std::int64_t write_limit = 0;
  std::uint32_t last_updated = 0;

  // ev_token_bucket_init: a fresh bucket gets one tick's worth (rate) and starts counting at
  // `tick`; `reinitialize` only clips the tokens down to the (new) bursts.
  void init(const TokenBucketConfig& cfg, std::uint32_t tick, bool reinitialize);
  // ev_token_bucket_update: adds rate per tick elapsed since last_updated, up to burst.
  // Returns false when no tick passed (or the clock went back).
  bool update(const TokenBucketConfig& cfg, std::uint32_t tick);
};

// ev_token_bucket_get_tick: the tick number of `now` for this configuration.
std::uint32_t token_bucket_tick(TimePoint now, const TokenBucketConfig& cfg);

// bufferevent_rate_limit_group: a bucket shared by BufferEvents of one EventBase. Members join
// with BufferEvent::add_to_rate_limit_group. Destroying the group removes (and resumes) its
// members. Loop thread only, for every method.
class RateLimitGroup {
 public:
  // bufferevent_rate_limit_group_new(base, cfg). Throws std::invalid_argument if !cfg.valid().
  RateLimitGroup(EventBase& base, const TokenBucketConfig& cfg);
  ~RateLimitGroup();
  RateLimitGroup(const RateLimitGroup&) = delete;
  RateLimitGroup& operator=(const RateLimitGroup&) = delete;

  // bufferevent_rate_limit_group_set_cfg: tokens clipped down to the new bursts; a new tick
  // length restarts the refill timer. Returns false (nothing changed) if !cfg.valid().
  bool set_config(const TokenBucketConfig& cfg);
  const TokenBucketConfig& config() const;
  // bufferevent_rate_limit_group_set_min_share (default 64): the least a member may take per
  // read or write, capped at one tick's rate so that at steady state one member moves per tick.
  void set_min_share(std::size_t share);
  std::size_t min_share() const;

  // bufferevent_rate_limit_group_get_read_limit / get_write_limit: tokens now (may be < 0).
  std::int64_t read_limit() const;
  std::int64_t write_limit() const;
  // bufferevent_rate_limit_group_decrement_read / _write: take (or, negative, give) tokens;
  // members are suspended or resumed accordingly.
  void decrement_read(std::int64_t bytes);
  void decrement_write(std::int64_t bytes);
  // bufferevent_rate_limit_group_get_totals / reset_totals: bytes moved by members.
  std::uint64_t total_read() const;
  std::uint64_t total_written() const;
  void reset_totals();

  std::size_t member_count() const;
  bool read_suspended() const;
  bool write_suspended() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reactor
