#include "loop_snapshots.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>

#include "server/wall_clock.h"

namespace reactord::control {

namespace {

// Calls f(record) for each connection with id >= start_id that matches `filter`, in
// ascending id order, until f returns false or `budget` connections have been examined.
// Returns the id to continue from when the budget ran out, nullopt when the scan is over. The
// record has no local address unless the filter needed it to decide.
template <typename F>
std::optional<std::uint64_t> for_each_match(LoopWorker& worker, std::uint64_t start_id,
                                            const FilterSpec& filter, std::size_t budget, F&& f) {
  const auto now = std::chrono::steady_clock::now();
  // The wall-clock opening time from the steady one, with one pair of clock reads per scan
  // instead of one per connection (they were a third of the scan's time).
  const SteadyToWall to_wall;
  // An id list (without negate) bounds the scan: start at its first id, stop past its last.
  std::uint64_t last_id = UINT64_MAX;
  if (!filter.ids.empty() && !filter.negate) {
    start_id = std::max(start_id, filter.ids.front());
    last_id = filter.ids.back();
  }
  std::optional<std::uint64_t> resume;
  std::size_t examined = 0;
  worker.for_each_record_from(start_id, filter.local_port != 0, [&](ConnectionRecord& record) {
    if (record.id > last_id) return false;
    if (examined++ == budget) {
      resume = record.id;
      return false;
    }
    if (!filter.matches(record, now)) return true;
    record.created_wall = to_wall(record.created);
    return f(record);
  });
  return resume;
}

}  // namespace

std::vector<ConnectionRecord> page_on_loop(LoopWorker& worker, std::uint64_t start_id,
                                           const FilterSpec& filter, std::size_t limit) {
  PageScan scan(start_id, filter, limit, SIZE_MAX);
  return *scan(worker);
}

std::vector<std::uint64_t> matching_ids(LoopWorker& worker, const FilterSpec& filter) {
  MatchScan scan(filter, SIZE_MAX);
  return *scan(worker);
}

PageScan::PageScan(std::uint64_t start_id, FilterSpec filter, std::size_t limit, std::size_t slice)
    : next_(start_id), filter_(std::move(filter)), limit_(limit), slice_(slice) {}

std::optional<std::vector<ConnectionRecord>> PageScan::operator()(LoopWorker& worker) {
  if (limit_ == 0) return std::move(out_);
  auto resume = for_each_match(worker, next_, filter_, slice_, [&](ConnectionRecord& record) {
    if (record.local.family() == AF_UNSPEC) {
      record.local = worker.local_address_of(record.id);
    }
    out_.push_back(std::move(record));
    return out_.size() < limit_;
  });
  if (resume && out_.size() < limit_) {
    next_ = *resume;
    return std::nullopt;
  }
  return std::move(out_);
}

MatchScan::MatchScan(FilterSpec filter, std::size_t slice) : filter_(std::move(filter)), slice_(slice) {}

std::optional<std::vector<std::uint64_t>> MatchScan::operator()(LoopWorker& worker) {
  auto resume = for_each_match(worker, next_, filter_, slice_, [&](const ConnectionRecord& record) {
    out_.push_back(record.id);
    return true;
  });
  if (resume) {
    next_ = *resume;
    return std::nullopt;
  }
  return std::move(out_);
}

LoopEvents loop_events(LoopWorker& worker) {
  return LoopEvents{worker.event_snapshot(), worker.event_counts()};
}

LoopStatsView loop_stats(LoopWorker& worker) {
  LoopStatsView v;
  v.stats = worker.loop_stats();
  v.counts = worker.event_counts();
  v.connections = worker.connection_count();
  v.backend = worker.backend_name();
  return v;
}

}  // namespace reactord::control
