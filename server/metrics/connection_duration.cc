#include "server/metrics/connection_duration.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace reactord::metrics {
namespace {

// Single writer per slot: a plain load + store is enough and avoids a locked instruction.
void bump(std::atomic<std::uint64_t>& value, std::uint64_t n) {
  value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

ConnectionDurationObserver::ConnectionDurationObserver(std::size_t loops)
    : loops_(loops), per_loop_(std::make_unique<PerLoop[]>(loops)) {}

void ConnectionDurationObserver::on_closed(const ConnectionRecord& closed) {
  std::chrono::duration<double> lived = reactor::Clock::now() - closed.created;
  record(closed.loop, lived.count());
}

void ConnectionDurationObserver::record(unsigned loop, double seconds) {
  if (loop >= loops_) return;
  if (!(seconds >= 0)) seconds = 0;
  auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds) - kBoundsSeconds.begin());
  PerLoop& slot = per_loop_[loop];
  bump(slot.buckets[bucket], 1);
  bump(slot.sum_ns, static_cast<std::uint64_t>(seconds * 1e9));
}

prometheus::ClientMetric::Histogram ConnectionDurationObserver::histogram() const {
  std::array<std::uint64_t, kBoundsSeconds.size() + 1> totals{};
  std::uint64_t sum_ns = 0;
  for (std::size_t l = 0; l < loops_; ++l) {
    for (std::size_t b = 0; b < totals.size(); ++b) {
      totals[b] += per_loop_[l].buckets[b].load(std::memory_order_relaxed);
    }
    sum_ns += per_loop_[l].sum_ns.load(std::memory_order_relaxed);
  }
  prometheus::ClientMetric::Histogram out;
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kBoundsSeconds.size(); ++b) {
    cumulative += totals[b];
    out.bucket.push_back({cumulative, kBoundsSeconds[b]});
  }
  cumulative += totals.back();
  out.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  out.sample_count = cumulative;
  out.sample_sum = static_cast<double>(sum_ns) / 1e9;
  return out;
}

}  // namespace reactord::metrics
