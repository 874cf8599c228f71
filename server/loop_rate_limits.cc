#include "server/loop_rate_limits.h"

#include "server/connection.h"
#include "server/connection_registry.h"
#include "server/rate_limits.h"

namespace reactord {

LoopRateLimits::LoopRateLimits(reactor::EventBase& base, unsigned loops,
                               std::optional<units::Rate> per_connection, std::optional<units::Rate> total)
    : base_(base), loops_(loops), per_connection_(per_connection), total_(total) {}

LoopRateLimits::~LoopRateLimits() = default;

void LoopRateLimits::apply(reactor::BufferEvent& bev) {
  if (per_connection_) bev.set_rate_limit(to_token_buckets(*per_connection_));
  if (total_) {
    // Created on the loop thread at the first client (the base may still be on the main
    // thread when the LoopWorker is built).
    if (!group_) group_ = std::make_unique<reactor::RateLimitGroup>(base_, to_token_buckets(*total_, loops_));
    bev.add_to_rate_limit_group(*group_);
  }
}

void LoopRateLimits::on_closed(const reactor::BufferEvent& bev) {
  closed_bytes_delayed_ += bev.bytes_delayed();
  closed_throttled_ += bev.throttled_time();
}

void LoopRateLimits::set_total(std::optional<units::Rate> total, ConnectionRegistry& registry) {
  total_ = total;
  if (!total_) {
    group_.reset();  // members released and resumed
    return;
  }
  const reactor::TokenBucketConfig cfg = to_token_buckets(*total_, loops_);
  if (group_) {
    group_->set_config(cfg);
    return;
  }
  group_ = std::make_unique<reactor::RateLimitGroup>(base_, cfg);
  registry.for_each_from(0, [&](Connection& c) {
    c.buffer_event().add_to_rate_limit_group(*group_);
    return true;
  });
}

LoopRateLimits::Totals LoopRateLimits::totals(const ConnectionRegistry& registry) const {
  Totals t{closed_bytes_delayed_, closed_throttled_, 0};
  registry.for_each_from(0, [&](const Connection& c) {
    const reactor::BufferEvent& bev = c.buffer_event();
    t.bytes_delayed += bev.bytes_delayed();
    t.throttled += bev.throttled_time();
    if (bev.read_throttled() || bev.write_throttled()) ++t.throttled_connections;
    return true;
  });
  return t;
}

}  // namespace reactord
