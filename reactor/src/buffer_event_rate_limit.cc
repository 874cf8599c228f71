// BufferEvent rate limits: the own token bucket, group membership, suspending and resuming a
// direction, and the throttle counters (libevent's bufferevent_ratelim.c, BufferEvent side).
//
// The I/O paths call allowance() before and charge() after a transfer, and only when the
// kRateLimited bit is set: a BufferEvent without limits never reaches this file.
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "buffer_event_impl.h"
#include "rate_limit_impl.h"

namespace reactor {

BufferEventRateLimit& BufferEvent::Impl::rate_limit_ref() {
  Extras& x = extras_ref();
  if (!x.rate_limit) x.rate_limit = std::make_unique<BufferEventRateLimit>();
  return *x.rate_limit;
}

void BufferEvent::Impl::update_rate_limited_bit() {
  const BufferEventRateLimit* rl = extras ? extras->rate_limit.get() : nullptr;
  if (rl != nullptr && (rl->cfg || rl->group != nullptr) && !closed()) {
    state |= kRateLimited;
  } else {
    state &= ~kRateLimited;
  }
}

std::size_t BufferEvent::Impl::allowance(bool write, std::size_t max) {
  BufferEventRateLimit& rl = *extras->rate_limit;
  auto allowed = static_cast<std::int64_t>(max);
  if (rl.cfg) {
    rl.bucket.update(*rl.cfg, token_bucket_tick(base().now(), *rl.cfg));
    const std::int64_t tokens = write ? rl.bucket.write_limit : rl.bucket.read_limit;
    if (tokens <= 0) {
      throttle(write, kThrottledByBucket);
      return 0;
    }
    allowed = std::min(allowed, tokens);
  }
  if (rl.group != nullptr) {
    const std::int64_t share = rl.group->share(write);
    if (share <= 0) {
      if (write ? rl.group->write_suspended : rl.group->read_suspended) {
        throttle(write, kThrottledByGroup);
      } else {
        rl.group->suspend(write);
      }
      return 0;
    }
    allowed = std::min(allowed, share);
  }
  return static_cast<std::size_t>(allowed);
}

void BufferEvent::Impl::charge(bool write, std::size_t bytes) {
  BufferEventRateLimit& rl = *extras->rate_limit;
  bool& waited = write ? rl.write_waited : rl.read_waited;
  if (waited) {
    rl.bytes_delayed += bytes;
    waited = false;
  }
  if (rl.cfg) {
    std::int64_t& tokens = write ? rl.bucket.write_limit : rl.bucket.read_limit;
    tokens -= static_cast<std::int64_t>(bytes);
    if (tokens <= 0) throttle(write, kThrottledByBucket);
  }
  if (rl.group != nullptr) rl.group->charge(write, static_cast<std::int64_t>(bytes));
}

// Suspends a direction for `why`. The own bucket's reason also schedules the refill at the next
// tick boundary — the first moment the bucket can hold tokens again.
void BufferEvent::Impl::throttle(bool write, std::uint8_t why) {
  BufferEventRateLimit& rl = *extras->rate_limit;
  if (why == kThrottledByBucket && rl.cfg) {
    if (!rl.refill) {
      rl.refill = std::make_unique<Event>(base(), -1, EventFlags{}, &refill_cb, &self());
    }
    if (!any(rl.refill->pending(kTimeout))) {
      const auto since_epoch = std::chrono::duration_cast<Duration>(base().now().time_since_epoch());
      const Duration tick = rl.cfg->tick;
      rl.refill->add(tick - since_epoch % tick);
    }
  }
  std::uint8_t& bits = write ? rl.write_throttle : rl.read_throttle;
  const bool already = bits != 0;
  bits |= why;
  if (already) return;
  if ((state & (kReadThrottled | kWriteThrottled)) == 0) rl.throttled_since = base().now();
  if (write) {
    state |= kWriteThrottled;
    rl.write_waited = true;
    // A connect in progress keeps its write event: it reports the connect, sends nothing.
    if ((state & kConnecting) == 0) disarm_write();
  } else {
    state |= kReadThrottled;
    rl.read_waited = true;
    // A graceful close keeps reading (discarding) to see the peer's EOF.
    if ((state & kClosing) == 0) disarm_read();
  }
}

void BufferEvent::Impl::unthrottle(bool write, std::uint8_t why) {
  BufferEventRateLimit& rl = *extras->rate_limit;
  std::uint8_t& bits = write ? rl.write_throttle : rl.read_throttle;
  if ((bits & why) == 0) return;
  bits &= static_cast<std::uint8_t>(~why);
  if (bits != 0) return;
  if (write) {
    state &= ~kWriteThrottled;
    // Sending waits for the write event (never from here: no user code runs in a resume).
    if (!output.empty() && (any(enabled() & kWrite) || (state & kClosing) != 0)) arm_write();
  } else {
    state &= ~kReadThrottled;
    arm_read();
  }
  if ((state & (kReadThrottled | kWriteThrottled)) == 0) {
    rl.throttled_total += std::chrono::duration_cast<Duration>(base().now() - rl.throttled_since);
  }
}

void BufferEvent::Impl::on_refill() {
  BufferEventRateLimit& rl = *extras->rate_limit;
  if (!rl.cfg) return;
  rl.bucket.update(*rl.cfg, token_bucket_tick(base().now(), *rl.cfg));
  bool again = false;
  if ((rl.read_throttle & kThrottledByBucket) != 0) {
    if (rl.bucket.read_limit > 0) {
      unthrottle(false, kThrottledByBucket);
    } else {
      again = true;
    }
  }
  if ((rl.write_throttle & kThrottledByBucket) != 0) {
    if (rl.bucket.write_limit > 0) {
      unthrottle(true, kThrottledByBucket);
    } else {
      again = true;
    }
  }
  // Still in debt (decrement_* took more than a tick brings): wait for the next tick.
  if (again) rl.refill->add(rl.cfg->tick);
}

// Closing or destruction: leave the group (it points at us), stop the refill, close the
// throttled stretch. Nothing is re-armed.
void BufferEvent::Impl::drop_rate_limit_on_close() {
  BufferEventRateLimit& rl = *extras->rate_limit;
  if ((state & (kReadThrottled | kWriteThrottled)) != 0) {
    rl.throttled_total += std::chrono::duration_cast<Duration>(base().now() - rl.throttled_since);
  }
  rl.read_throttle = 0;
  rl.write_throttle = 0;
  state &= ~(kReadThrottled | kWriteThrottled | kRateLimited);
  if (rl.group != nullptr) rl.group->remove_member(this);
  if (rl.refill) rl.refill->del();
  state &= ~kRateLimited;
}

// ---- Public API ---------------------------------------------------------------------------

bool BufferEvent::set_rate_limit(const std::optional<TokenBucketConfig>& cfg) {
  Impl& d = *impl_;
  if (!cfg) {
    if (!d.extras || !d.extras->rate_limit || !d.extras->rate_limit->cfg) return true;
    BufferEventRateLimit& rl = *d.extras->rate_limit;
    rl.cfg.reset();
    if (rl.refill) rl.refill->del();
    d.unthrottle(false, kThrottledByBucket);
    d.unthrottle(true, kThrottledByBucket);
    d.update_rate_limited_bit();
    return true;
  }
  if (!cfg->valid() || d.closed()) return false;
  BufferEventRateLimit& rl = d.rate_limit_ref();
  const std::uint32_t tick = token_bucket_tick(d.base().now(), *cfg);
  if (rl.cfg && *rl.cfg == *cfg) return true;
  if (rl.cfg) {
    // Bring the tokens up to now at the old rate, then clip to the new burst (ev_token_bucket_init
    // with reinitialize). Another tick length counts ticks differently: restart the count.
    rl.bucket.update(*rl.cfg, token_bucket_tick(d.base().now(), *rl.cfg));
    if (rl.cfg->tick != cfg->tick) rl.bucket.last_updated = tick;
    rl.cfg = cfg;
    rl.bucket.init(*cfg, tick, true);
    if (rl.refill) rl.refill->del();
  } else {
    rl.cfg = cfg;
    rl.bucket.init(*cfg, tick, false);
  }
  d.update_rate_limited_bit();
  // Suspend or resume each direction by what the bucket now holds (as libevent does).
  for (const bool write : {false, true}) {
    const std::int64_t tokens = write ? rl.bucket.write_limit : rl.bucket.read_limit;
    if (tokens > 0) {
      d.unthrottle(write, kThrottledByBucket);
    } else {
      d.throttle(write, kThrottledByBucket);  // (re-)schedules the refill at the new tick
    }
  }
  return true;
}

std::optional<TokenBucketConfig> BufferEvent::rate_limit() const {
  const Impl& d = *impl_;
  if (!d.extras || !d.extras->rate_limit) return std::nullopt;
  return d.extras->rate_limit->cfg;
}

void BufferEvent::add_to_rate_limit_group(RateLimitGroup& group) {
  Impl& d = *impl_;
  RateLimitGroup::Impl& g = group.impl();
  if (g.base != &d.base())
    throw std::logic_error("add_to_rate_limit_group: the group uses another EventBase");
  if (d.closed()) return;
  BufferEventRateLimit& rl = d.rate_limit_ref();
  if (rl.group == &g) return;
  if (rl.group != nullptr) rl.group->remove_member(&d);
  g.add_member(&d);
}

void BufferEvent::remove_from_rate_limit_group() {
  Impl& d = *impl_;
  if (!d.extras || !d.extras->rate_limit || d.extras->rate_limit->group == nullptr) return;
  d.extras->rate_limit->group->remove_member(&d);
}

RateLimitGroup* BufferEvent::rate_limit_group() const {
  const Impl& d = *impl_;
  if (!d.extras || !d.extras->rate_limit || d.extras->rate_limit->group == nullptr) return nullptr;
  return d.extras->rate_limit->group->owner;
}

std::int64_t BufferEvent::read_limit() const {
  const Impl& d = *impl_;
  if (!d.extras || !d.extras->rate_limit || !d.extras->rate_limit->cfg)
    return std::numeric_limits<std::int64_t>::max();
  return d.extras->rate_limit->bucket.read_limit;
}

std::int64_t BufferEvent::write_limit() const {
  const Impl& d = *impl_;
  if (!d.extras || !d.extras->rate_limit || !d.extras->rate_limit->cfg)
    return std::numeric_limits<std::int64_t>::max();
  return d.extras->rate_limit->bucket.write_limit;
}

namespace {

std::size_t max_to_move(const BufferEventRateLimit* rl, bool write, std::size_t chunk) {
  auto allowed = static_cast<std::int64_t>(chunk);
  if (rl == nullptr) return chunk;
  if (rl->cfg) allowed = std::min(allowed, write ? rl->bucket.write_limit : rl->bucket.read_limit);
  if (rl->group != nullptr) allowed = std::min(allowed, rl->group->share(write));
  return static_cast<std::size_t>(std::max<std::int64_t>(allowed, 0));
}

}  // namespace

std::size_t BufferEvent::max_to_read() const {
  const Impl& d = *impl_;
  return max_to_move(d.extras ? d.extras->rate_limit.get() : nullptr, false, Impl::kReadChunk);
}

std::size_t BufferEvent::max_to_write() const {
  const Impl& d = *impl_;
  return max_to_move(d.extras ? d.extras->rate_limit.get() : nullptr, true, Impl::kSendChunk);
}

namespace {

bool decrement(BufferEvent::Impl& d, bool write, std::int64_t bytes) {
  if (!d.extras || !d.extras->rate_limit || !d.extras->rate_limit->cfg) return false;
  BufferEventRateLimit& rl = *d.extras->rate_limit;
  std::int64_t& tokens = write ? rl.bucket.write_limit : rl.bucket.read_limit;
  tokens -= bytes;
  if (tokens <= 0) {
    d.throttle(write, kThrottledByBucket);
  } else {
    d.unthrottle(write, kThrottledByBucket);
  }
  return true;
}

}  // namespace

bool BufferEvent::decrement_read_limit(std::int64_t bytes) { return decrement(*impl_, false, bytes); }
bool BufferEvent::decrement_write_limit(std::int64_t bytes) { return decrement(*impl_, true, bytes); }

bool BufferEvent::read_throttled() const { return (impl_->state & Impl::kReadThrottled) != 0; }
bool BufferEvent::write_throttled() const { return (impl_->state & Impl::kWriteThrottled) != 0; }

Duration BufferEvent::throttled_time() const {
  const Impl& d = *impl_;
  if (!d.extras || !d.extras->rate_limit) return Duration::zero();
  const BufferEventRateLimit& rl = *d.extras->rate_limit;
  Duration total = rl.throttled_total;
  if ((d.state & (Impl::kReadThrottled | Impl::kWriteThrottled)) != 0) {
    total += std::chrono::duration_cast<Duration>(d.base().now() - rl.throttled_since);
  }
  return total;
}

std::uint64_t BufferEvent::bytes_delayed() const {
  const Impl& d = *impl_;
  return d.extras && d.extras->rate_limit ? d.extras->rate_limit->bytes_delayed : 0;
}

}  // namespace reactor
