// The soak suite's load generators, each a loop on its own thread until `stop` is set (every
// wait inside is bounded): echo clients that compare every byte, connect/close churn with
// resets, slow readers (backpressure) that also check every byte, WatchConnections streams,
// control polling and /metrics scrapes. Counts go to Stats; anything wrong to Stats::fail.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace grpc {
class Channel;
}

namespace reactord::soak {

struct Stats {
  std::atomic<std::uint64_t> echo_bytes_checked{0};
  std::atomic<std::uint64_t> echo_rounds{0};
  std::atomic<std::uint64_t> slow_bytes_checked{0};
  std::atomic<std::uint64_t> churn_connections{0};
  std::atomic<std::uint64_t> churn_resets{0};
  std::atomic<std::uint64_t> watch_streams{0};
  std::atomic<std::uint64_t> watch_events{0};
  std::atomic<std::uint64_t> watch_ended_exhausted{0};
  std::atomic<std::uint64_t> control_calls{0};
  std::atomic<std::uint64_t> scrapes{0};

  void fail(const std::string& what);
  std::vector<std::string> failures() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
};

struct Target {
  std::uint16_t data_port = 0;
  std::uint16_t metrics_port = 0;
  std::shared_ptr<grpc::Channel> control;
  std::string greeting = "Hello, World!\n";
};

// Each runs until stop is set. `seed` makes the payloads differ between threads.
void run_echo_client(const Target& t, const std::atomic<bool>& stop, Stats& stats, std::uint32_t seed);
void run_churn(const Target& t, const std::atomic<bool>& stop, Stats& stats, std::uint32_t seed);
void run_slow_reader(const Target& t, const std::atomic<bool>& stop, Stats& stats, std::uint32_t seed);
void run_watcher(const Target& t, const std::atomic<bool>& stop, Stats& stats);
void run_control_poller(const Target& t, const std::atomic<bool>& stop, Stats& stats);
void run_scraper(const Target& t, const std::atomic<bool>& stop, Stats& stats);

}  // namespace reactord::soak
