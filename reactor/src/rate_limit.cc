// Token buckets and rate-limit groups (libevent's bufferevent_ratelim.c): the bucket
// arithmetic, and a group's bucket, refill timer and fair resume order.
#include "reactor/rate_limit.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "rate_limit_impl.h"
#include "reactor/event_base.h"

namespace reactor {

// ---- TokenBucketConfig / TokenBucket ------------------------------------------------------

bool TokenBucketConfig::valid() const {
  if (read_rate < 1 || write_rate < 1) return false;
  if (read_rate > read_burst || write_rate > write_burst) return false;
  if (read_burst > kRateLimitMax || write_burst > kRateLimitMax) return false;
  return tick >= std::chrono::milliseconds(1);
}

std::optional<TokenBucketConfig> TokenBucketConfig::make(std::size_t read_rate, std::size_t read_burst,
                                                         std::size_t write_rate, std::size_t write_burst,
                                                         Duration tick) {
  TokenBucketConfig cfg{read_rate, read_burst, write_rate, write_burst, tick};
  if (!cfg.valid()) return std::nullopt;
  return cfg;
}

void TokenBucket::init(const TokenBucketConfig& cfg, std::uint32_t tick, bool reinitialize) {
  if (reinitialize) {
    // The bytes of this tick are already spent: only clip down. last_updated stays, so the next
    // update adds what the ticks since then are worth at the new rate.
    read_limit = std::min(read_limit, static_cast<std::int64_t>(cfg.read_burst));
    write_limit = std::min(write_limit, static_cast<std::int64_t>(cfg.write_burst));
    return;
  }
  read_limit = static_cast<std::int64_t>(cfg.read_rate);
  write_limit = static_cast<std::int64_t>(cfg.write_rate);
  last_updated = tick;
}

namespace {

// limit + ticks * rate, capped at burst, without overflowing (libevent's order of checks).
std::int64_t refill(std::int64_t limit, std::uint32_t ticks, std::size_t rate, std::size_t burst) {
  const auto max = static_cast<std::int64_t>(burst);
  if (limit >= max) return limit;  // clipped by a smaller burst later; never grows past it
  if (static_cast<std::uint64_t>(max - limit) / ticks < rate) return max;
  return limit + static_cast<std::int64_t>(ticks) * static_cast<std::int64_t>(rate);
}

}  // namespace

bool TokenBucket::update(const TokenBucketConfig& cfg, std::uint32_t tick) {
  // Unsigned difference: a wrapping tick counter still works; "negative" means time went back.
  const std::uint32_t ticks = tick - last_updated;
  if (ticks == 0 || ticks > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
    return false;
  read_limit = refill(read_limit, ticks, cfg.read_rate, cfg.read_burst);
  write_limit = refill(write_limit, ticks, cfg.write_rate, cfg.write_burst);
  last_updated = tick;
  return true;
}

std::uint32_t token_bucket_tick(TimePoint now, const TokenBucketConfig& cfg) {
  const auto since_epoch = std::chrono::duration_cast<Duration>(now.time_since_epoch());
  return static_cast<std::uint32_t>(since_epoch.count() / cfg.tick.count());
}

// ---- RateLimitGroup::Impl -----------------------------------------------------------------

RateLimitGroup::Impl::Impl(RateLimitGroup& o, EventBase& b, const TokenBucketConfig& c)
    : owner(&o),
      base(&b),
      cfg(c),
      random_state(static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(this) >> 4) | 1u) {
  bucket.init(cfg, token_bucket_tick(base->now(), cfg), false);
  apply_min_share();
  // Periodic (kPersist: each run re-arms from the previous deadline, no drift).
  tick_timer = std::make_unique<Event>(*base, -1, kPersist, [this](int, EventFlags) { on_tick(); });
  tick_timer->set_label("ratelimit.group");
}

void RateLimitGroup::Impl::apply_min_share() {
  // At steady state at least one member must be able to move per tick.
  std::size_t share = configured_min_share;
  share = std::min({share, cfg.read_rate, cfg.write_rate});
  min_share = static_cast<std::int64_t>(share);
}

void RateLimitGroup::Impl::update_tokens() { bucket.update(cfg, token_bucket_tick(base->now(), cfg)); }

std::int64_t RateLimitGroup::Impl::share(bool write) const {
  if (write ? write_suspended : read_suspended) return 0;
  const std::int64_t tokens = write ? bucket.write_limit : bucket.read_limit;
  // libevent divides among all members, not only the active ones.
  const std::int64_t n = static_cast<std::int64_t>(std::max<std::size_t>(members.size(), 1));
  return std::max(tokens / n, min_share);
}

void RateLimitGroup::Impl::charge(bool write, std::int64_t bytes) {
  (write ? total_written : total_read) += static_cast<std::uint64_t>(bytes);
  adjust(write, bytes);
}

void RateLimitGroup::Impl::adjust(bool write, std::int64_t bytes) {
  std::int64_t& tokens = write ? bucket.write_limit : bucket.read_limit;
  tokens -= bytes;
  if (tokens <= 0) {
    suspend(write);
  } else if (write ? write_suspended : read_suspended) {
    resume(write);
  }
}

void RateLimitGroup::Impl::suspend(bool write) {
  (write ? write_suspended : read_suspended) = true;
  for (BufferEvent::Impl* member : members) member->throttle(write, kThrottledByGroup);
}

// Every member resumes, the round starting at a random one (libevent's FOREACH_RANDOM_ORDER):
// the order in which sockets are re-armed is the order their readiness is next reported, so a
// fixed order would favour the same members every tick. Resuming only re-arms events, it runs
// no user code, so the member list cannot change under the loop.
void RateLimitGroup::Impl::resume(bool write) {
  (write ? write_suspended : read_suspended) = false;
  if (members.empty()) return;
  random_state ^= random_state << 13;
  random_state ^= random_state >> 17;
  random_state ^= random_state << 5;
  const std::size_t first = random_state % members.size();
  for (std::size_t k = 0; k < members.size(); ++k) {
    members[(first + k) % members.size()]->unthrottle(write, kThrottledByGroup);
  }
}

void RateLimitGroup::Impl::on_tick() {
  update_tokens();
  if (read_suspended && bucket.read_limit >= min_share) resume(false);
  if (write_suspended && bucket.write_limit >= min_share) resume(true);
}

void RateLimitGroup::Impl::add_member(BufferEvent::Impl* member) {
  BufferEventRateLimit& rl = member->rate_limit_ref();
  rl.group = this;
  rl.group_index = members.size();
  members.push_back(member);
  if (members.size() == 1) {
    update_tokens();
    tick_timer->add(cfg.tick);
  }
  member->update_rate_limited_bit();
  if (read_suspended) member->throttle(false, kThrottledByGroup);
  if (write_suspended) member->throttle(true, kThrottledByGroup);
}

void RateLimitGroup::Impl::remove_member(BufferEvent::Impl* member) {
  BufferEventRateLimit& rl = *member->extras->rate_limit;
  const std::size_t index = rl.group_index;
  members[index] = members.back();
  members[index]->extras->rate_limit->group_index = index;
  members.pop_back();
  rl.group = nullptr;
  if (members.empty()) tick_timer->del();
  member->unthrottle(false, kThrottledByGroup);
  member->unthrottle(true, kThrottledByGroup);
  member->update_rate_limited_bit();
}

// ---- RateLimitGroup -----------------------------------------------------------------------

RateLimitGroup::RateLimitGroup(EventBase& base, const TokenBucketConfig& cfg) {
  base.assert_in_loop_thread();
  if (!cfg.valid()) throw std::invalid_argument("RateLimitGroup: invalid TokenBucketConfig");
  impl_ = std::make_unique<Impl>(*this, base, cfg);
}

RateLimitGroup::~RateLimitGroup() {
  while (!impl_->members.empty()) impl_->remove_member(impl_->members.back());
}

bool RateLimitGroup::set_config(const TokenBucketConfig& cfg) {
  if (!cfg.valid()) return false;
  Impl& g = *impl_;
  const bool new_tick = cfg.tick != g.cfg.tick;
  g.update_tokens();
  g.cfg = cfg;
  if (new_tick) {
    // Tick numbers of another length are another count: start counting again from now.
    const std::int64_t read = g.bucket.read_limit;
    const std::int64_t write = g.bucket.write_limit;
    g.bucket.init(cfg, token_bucket_tick(g.base->now(), cfg), false);
    g.bucket.read_limit = read;
    g.bucket.write_limit = write;
    if (!g.members.empty()) g.tick_timer->add(cfg.tick);
  }
  g.bucket.init(cfg, 0, true);
  g.apply_min_share();
  return true;
}

const TokenBucketConfig& RateLimitGroup::config() const { return impl_->cfg; }

void RateLimitGroup::set_min_share(std::size_t share) {
  impl_->configured_min_share = std::min<std::size_t>(share, kRateLimitMax);
  impl_->apply_min_share();
}

std::size_t RateLimitGroup::min_share() const { return static_cast<std::size_t>(impl_->min_share); }
std::int64_t RateLimitGroup::read_limit() const { return impl_->bucket.read_limit; }
std::int64_t RateLimitGroup::write_limit() const { return impl_->bucket.write_limit; }
// Tokens only: the totals count bytes members moved (as libevent's group_decrement_*).
void RateLimitGroup::decrement_read(std::int64_t bytes) { impl_->adjust(false, bytes); }
void RateLimitGroup::decrement_write(std::int64_t bytes) { impl_->adjust(true, bytes); }
std::uint64_t RateLimitGroup::total_read() const { return impl_->total_read; }
std::uint64_t RateLimitGroup::total_written() const { return impl_->total_written; }

void RateLimitGroup::reset_totals() {
  impl_->total_read = 0;
  impl_->total_written = 0;
}

std::size_t RateLimitGroup::member_count() const { return impl_->members.size(); }
bool RateLimitGroup::read_suspended() const { return impl_->read_suspended; }
bool RateLimitGroup::write_suspended() const { return impl_->write_suspended; }

}  // namespace reactor
