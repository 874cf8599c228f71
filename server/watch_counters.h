// WatchCounters: what the WatchConnections bounds did, as relaxed atomics. The control plane
// writes them (WatchBudget); the metrics exporter reads them at scrape time
// (reactord_control_watch_* in ControlMetrics). Plain atomics, no dependency: both sides
// include this. Any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace reactord {

struct WatchCounters {
  std::atomic<std::int64_t> open{0};            // watch streams open now
  std::atomic<std::int64_t> queued_bytes{0};    // bytes queued for all of them now
  std::atomic<std::uint64_t> refused{0};        // refused at start: --control-max-watchers open
  std::atomic<std::uint64_t> dropped_slow{0};   // ended: its own queue passed --watch-buffer-bytes
  std::atomic<std::uint64_t> dropped_total{0};  // ended: all queues passed --watch-total-bytes
};

}  // namespace reactord
