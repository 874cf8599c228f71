// What the control plane copies out of a loop, on that loop's thread (inside call_loops):
// connection views, one connection in detail, the reactor's events and the loop's statistics.
// Every function here: loop thread only (the worker's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connection_view.h"
#include "reactor/inspection.h"
#include "server/connection_record.h"
#include "server/loop_worker.h"

namespace reactord::control {

// Any thread (a pure conversion).
ConnectionView view_of(const ConnectionRecord& record);

// Connections with id >= start_id, ordered by id.
std::vector<ConnectionView> connection_views(LoopWorker& worker, std::uint64_t start_id);
// One connection with buffers, watermarks, TCP_INFO and its reactor events; nullopt if the id
// is not on this loop.
std::optional<ConnectionView> detailed_view(LoopWorker& worker, std::uint64_t id);

struct LoopEvents {
  std::vector<reactor::EventInfo> events;
  reactor::EventCounts counts;
};
LoopEvents loop_events(LoopWorker& worker);

struct LoopStatsView {
  reactor::LoopStats stats;
  reactor::EventCounts counts;
  std::size_t connections = 0;
  std::string backend;
};
LoopStatsView loop_stats(LoopWorker& worker);

}  // namespace reactord::control
