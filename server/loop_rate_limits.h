// LoopRateLimits: one loop's rate limits (server/rate_limits.h): the per-connection default
// given to each new client, the loop's part of the listener-wide total (a RateLimitGroup
// every client of the loop joins), run-time changes, and the counters for metrics.
//
// Thread rule: loop thread only, for everything (the control plane posts its changes).
// Destroy before the EventBase (LoopWorker::destroy_base).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "reactor/buffer_event.h"
#include "reactor/event_base.h"
#include "reactor/rate_limit.h"
#include "units/rate.h"

namespace reactord {

class ConnectionRegistry;

class LoopRateLimits {
 public:
  // `loops`: how many loops split the total.
  LoopRateLimits(reactor::EventBase& base, unsigned loops, std::optional<units::Rate> per_connection,
                 std::optional<units::Rate> total);
  ~LoopRateLimits();
  LoopRateLimits(const LoopRateLimits&) = delete;
  LoopRateLimits& operator=(const LoopRateLimits&) = delete;

  // A new client: its own bucket (per-connection default) and the loop's group (total).
  void apply(reactor::BufferEvent& bev);
  // A client leaves: its throttle counters move to the loop's totals.
  void on_closed(const reactor::BufferEvent& bev);

  // The default for clients that connect from now on (existing ones keep theirs).
  void set_per_connection(std::optional<units::Rate> rate) { per_connection_ = rate; }
  const std::optional<units::Rate>& per_connection() const { return per_connection_; }
  // The listener-wide total (this loop gets its share): set or change it (every client of the
  // loop joins the group), or remove it (nullopt: the group goes, its members are released).
  void set_total(std::optional<units::Rate> total, ConnectionRegistry& registry);
  const std::optional<units::Rate>& total() const { return total_; }
  reactor::RateLimitGroup* group() const { return group_.get(); }

  // Throttle counters of the loop's clients, the closed ones included.
  struct Totals {
    std::uint64_t bytes_delayed = 0;
    reactor::Duration throttled{};
    std::uint64_t throttled_connections = 0;  // live clients with a direction suspended now
  };
  Totals totals(const ConnectionRegistry& registry) const;

 private:
  reactor::EventBase& base_;
  const unsigned loops_;
  std::optional<units::Rate> per_connection_;
  std::optional<units::Rate> total_;
  std::unique_ptr<reactor::RateLimitGroup> group_;
  std::uint64_t closed_bytes_delayed_ = 0;
  reactor::Duration closed_throttled_{};
};

}  // namespace reactord
