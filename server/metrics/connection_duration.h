// reactord_connection_duration_seconds: how long clients stay, from accept to close.
// A ConnectionObserver (Server::add_observer) whose on_closed runs on the loop that owned the
// connection; each loop fills its own slot with relaxed atomics (one writer per slot, no lock
// on the loop), and a scrape sums the slots.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include <prometheus/client_metric.h>

#include "server/connection_observer.h"

namespace reactord::metrics {

class ConnectionDurationObserver : public ConnectionObserver {
 public:
  // Upper bounds in seconds (+Inf follows): from a quick hello-and-leave to an hour-long session.
  static constexpr std::array<double, 12> kBoundsSeconds = {0.001, 0.01, 0.1, 0.5, 1,   5,
                                                            10,    30,   60,  300, 900, 3600};

  // `loops`: Server::loop_count(). Any thread.
  explicit ConnectionDurationObserver(std::size_t loops);

  // Loop thread of record.loop (the Server calls it there).
  void on_closed(const ConnectionRecord& closed) override;
  // The sum over every loop (a scrape may be a connection or two behind). Any thread.
  prometheus::ClientMetric::Histogram histogram() const;

  // Records one duration for `loop` — what on_closed does, exposed for tests. Loop thread of
  // `loop` (one writer per loop).
  void record(unsigned loop, double seconds);

 private:
  struct PerLoop {
    std::array<std::atomic<std::uint64_t>, kBoundsSeconds.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_ns{0};
  };
  std::size_t loops_;
  std::unique_ptr<PerLoop[]> per_loop_;
};

}  // namespace reactord::metrics
