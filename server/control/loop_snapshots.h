// What the control plane copies out of a loop, on that loop's thread (inside call_loops):
// connection records, one connection in detail, the reactor's events and the loop's statistics.
// Every function here: loop thread only (the worker's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter.h"
#include "server/connection_record.h"
#include "server/loop_worker.h"
#include "server/service_values.h"

namespace reactord::control {

// ListConnections' part on the loop: the connections with id >= start_id that match `filter`
// (times measured from now), in ascending id order, at most `limit` (the page + 1, see
// connection_page.h). Only those returned pay for their local address (a getsockname()), or
// every one examined when the filter asks for a local port.
std::vector<ConnectionRecord> page_on_loop(LoopWorker& worker, std::uint64_t start_id,
                                           const FilterSpec& filter, std::size_t limit);
// Ids of every connection that matches `filter`, ascending (CloseConnections, Drain's idle
// sweep): no local address unless the filter needs it.
std::vector<std::uint64_t> matching_ids(LoopWorker& worker, const FilterSpec& filter);
// The same two scans in slices (for call_loops_sliced): each call examines at most `slice`
// connections and returns the result once the scan is over, nullopt to be called again in a
// later loop iteration (it resumes at the next id; connections opened or closed meanwhile are
// seen or not, as with any live scan).
class PageScan {
 public:
  PageScan(std::uint64_t start_id, FilterSpec filter, std::size_t limit,
           std::size_t slice = LoopWorker::kListingSlice);
  std::optional<std::vector<ConnectionRecord>> operator()(LoopWorker& worker);

 private:
  std::uint64_t next_;
  FilterSpec filter_;
  std::size_t limit_;
  std::size_t slice_;
  std::vector<ConnectionRecord> out_;
};

class MatchScan {
 public:
  explicit MatchScan(FilterSpec filter, std::size_t slice = LoopWorker::kListingSlice);
  std::optional<std::vector<std::uint64_t>> operator()(LoopWorker& worker);

 private:
  std::uint64_t next_ = 0;
  FilterSpec filter_;
  std::size_t slice_;
  std::vector<std::uint64_t> out_;
};

struct LoopEvents {
  std::vector<EventInfo> events;
  EventCounts counts;
};
LoopEvents loop_events(LoopWorker& worker);

struct LoopStatsView {
  LoopStats stats;
  EventCounts counts;
  std::size_t connections = 0;
  std::string backend;
};
LoopStatsView loop_stats(LoopWorker& worker);

}  // namespace reactord::control
