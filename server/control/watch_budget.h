// WatchBudget: the process-wide bounds on WatchConnections streams — how many may be open
// (--control-max-watchers), how many bytes one may have queued (--watch-buffer-bytes) and how
// many all of them together (--watch-total-bytes). A stream past its own or the shared byte
// bound is ended with RESOURCE_EXHAUSTED (see ConnectionWatcher); a stream over the count is
// refused at start. What happened is counted in WatchCounters (metrics).
// No gRPC here. Any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "server/control_settings.h"
#include "server/watch_counters.h"

namespace reactord::control {

class WatchBudget {
 public:
  // counters: where to count (the metrics exporter's); null = counted here only.
  explicit WatchBudget(WatchLimits limits, WatchCounters* counters = nullptr);

  const WatchLimits& limits() const { return limits_; }
  WatchCounters& counters() { return *counters_; }

  // A stream starts: false (and counted as refused) when max_watchers are already open.
  bool admit();
  // A stream admitted earlier has ended.
  void leave();
  // Bytes queued by some stream: false (nothing taken) when the total would pass total_bytes.
  bool take(std::size_t bytes);
  void give(std::size_t bytes);
  std::size_t queued_bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  const WatchLimits limits_;
  WatchCounters own_;
  WatchCounters* counters_;
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> bytes_{0};
};

}  // namespace reactord::control
