#include "loop_snapshots.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>

#include "server/wall_clock.h"

namespace reactord::control {

ConnectionView view_of(const ConnectionRecord& r) {
  ConnectionView v;
  v.id = r.id;
  v.loop = r.loop;
  v.peer = r.peer;
  v.local = r.local;
  switch (r.state) {
    case ConnectionState::kOpen:
      v.state = ConnState::kOpen;
      break;
    case ConnectionState::kDraining:
      v.state = ConnState::kDraining;
      break;
    case ConnectionState::kClosing:
      v.state = ConnState::kClosing;
      break;
  }
  if (r.reading_paused && v.state == ConnState::kOpen) v.state = ConnState::kReadPaused;
  if (r.close_reason) v.state = ConnState::kClosed;
  v.read_suspended = r.reading_paused;
  v.opened_at = r.created;
  v.last_activity = r.last_activity;
  v.opened_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.created_wall.time_since_epoch()).count();
  v.bytes_in = r.bytes_in;
  v.bytes_out = r.bytes_out;
  v.input_buffered = r.bytes_buffered_in;
  v.output_buffered = r.bytes_buffered_out;
  if (r.tls) {
    v.tls = true;
    v.tls_handshake_done = r.tls->handshake_done;
    v.tls_version = r.tls->version;
    v.tls_cipher = r.tls->cipher;
    v.tls_sni = r.tls->sni;
    v.tls_peer_subject = r.tls->peer_subject;
    v.tls_alpn = r.tls->alpn;
    v.tls_ktls = r.tls->ktls;
  }
  static_cast<ConnectionRateLimitState&>(v) = r;  // one value type: copied whole
  return v;
}

namespace {

// Calls f(view) for each connection with id >= start_id that matches `filter`, in
// ascending id order, until f returns false or `budget` connections have been examined.
// Returns the id to continue from when the budget ran out, nullopt when the scan is over. The
// view has no local address unless the filter needed it to decide.
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
  worker.for_each_record_from(start_id, filter.local_port != 0, [&](const ConnectionRecord& record) {
    if (record.id > last_id) return false;
    if (examined++ == budget) {
      resume = record.id;
      return false;
    }
    ConnectionView view = view_of(record);
    if (!filter.matches(view, now)) return true;
    view.opened_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(to_wall(view.opened_at).time_since_epoch())
            .count();
    return f(view);
  });
  return resume;
}

}  // namespace

std::vector<ConnectionView> page_on_loop(LoopWorker& worker, std::uint64_t start_id, const FilterSpec& filter,
                                         std::size_t limit) {
  PageScan scan(start_id, filter, limit, SIZE_MAX);
  return *scan(worker);
}

std::vector<std::uint64_t> matching_ids(LoopWorker& worker, const FilterSpec& filter) {
  MatchScan scan(filter, SIZE_MAX);
  return *scan(worker);
}

PageScan::PageScan(std::uint64_t start_id, FilterSpec filter, std::size_t limit, std::size_t slice)
    : next_(start_id), filter_(std::move(filter)), limit_(limit), slice_(slice) {}

std::optional<std::vector<ConnectionView>> PageScan::operator()(LoopWorker& worker) {
  if (limit_ == 0) return std::move(out_);
  auto resume = for_each_match(worker, next_, filter_, slice_, [&](ConnectionView& view) {
    if (view.local.family() == AF_UNSPEC) {
      view.local = worker.local_address_of(view.id);
    }
    out_.push_back(std::move(view));
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
  auto resume = for_each_match(worker, next_, filter_, slice_, [&](const ConnectionView& view) {
    out_.push_back(view.id);
    return true;
  });
  if (resume) {
    next_ = *resume;
    return std::nullopt;
  }
  return std::move(out_);
}

std::optional<ConnectionView> detailed_view(LoopWorker& worker, std::uint64_t id) {
  auto detail = worker.connection_detail(id);
  if (!detail) return std::nullopt;
  ConnectionView v = view_of(detail->record);
  v.detailed = true;
  v.fd = detail->fd;
  v.read_low_watermark = detail->read_low_watermark;
  v.read_high_watermark = detail->read_high_watermark;
  v.write_low_watermark = detail->write_low_watermark;
  v.read_suspended = detail->record.reading_paused || detail->read_suspended_by_watermark;
  v.tcp = read_tcp_info(v.fd);  // on the loop thread: the fd is open
  v.events = std::move(detail->events);
  return v;
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
