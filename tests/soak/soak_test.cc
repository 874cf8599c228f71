// The soak suite (label soak, issue #14): the real reactord binary with --loops 2 under every
// kind of client at once for a bounded time (REACTORD_SOAK_SECONDS of load, default 140; the
// whole test stays under 3 minutes): echo clients comparing every byte, connect/close churn
// with resets, slow readers, WatchConnections streams, control polling and /metrics scrapes.
// reactord's RSS, threads and fds are sampled from /proc every 10 s.
//
// It fails on any lost or wrong byte, any failed control call or scrape, and on growth:
//   - RSS at the end of the load at most kRssSlackMiB above the sample after warm-up (30 s);
//   - RSS trend: over the second half of the load (after warm-up) at most kRssSecondHalfMiB of
//     growth. malloc's arenas and gRPC's pools grow early and then flatten (typically 8 MiB in
//     the first minute, 2 MiB in the last); a leak grows the same in both halves: 6 MiB over the
//     ~250,000 churn connections of a half is ~25 bytes per connection;
//   - threads: no sample after warm-up above the warm-up count + kThreadSlack (gRPC's pool
//     may add a few under concurrent calls; a thread per stream or per call would not fit);
//   - fds: back to the idle baseline (before any load) once the clients have left.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "control_test_util.h"
#include "daemon_process.h"
#include "proc_sample.h"
#include "scrape.h"
#include "soak_load.h"

namespace reactord::soak {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr double kRssSlackMiB = 24;
constexpr double kRssSecondHalfMiB = 6;
constexpr int kThreadSlack = 4;
constexpr double kWarmUpSeconds = 30;

int load_seconds() {
  const char* env = std::getenv("REACTORD_SOAK_SECONDS");
  int s = env != nullptr ? std::atoi(env) : 140;
  return s >= 40 && s <= 140 ? s : 140;
}

// Reads reactord's output (its pipe must never fill) until `until`.
void pump_output(test_support::Daemon& daemon, Clock::time_point until) {
  while (Clock::now() < until) {
    // "x^" never matches: this only reads what reactord wrote, for up to 500 ms.
    daemon.process.wait_for_output("x^", 500ms);
    std::this_thread::sleep_for(10ms);  // output closed (reactord gone): no busy loop
  }
}

std::uint64_t server_connections(v1::Inspect::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::ServerInfo info;
  return stub.GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info).ok() ? info.connections() : ~0ull;
}

TEST(Soak, EveryByteComesBackAndNothingGrows) {
  test_support::Daemon daemon({"--loops", "2"});
  ASSERT_TRUE(daemon.ready()) << daemon.process.output();
  const auto metrics_port =
      daemon.process.wait_for_output(R"(metrics listening on http://127\.0\.0\.1:(\d+))", 1000ms);
  ASSERT_TRUE(metrics_port) << daemon.process.output();
  const pid_t pid = daemon.process.pid();
  const auto start = Clock::now();
  auto since_start = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };

  Target target;
  target.data_port = daemon.data_port;
  target.metrics_port = static_cast<std::uint16_t>(std::stoi(*metrics_port));
  target.control = daemon.channel();
  auto inspect = daemon.inspect();
  // The idle baseline: the control connection open, one scrape done, no data client.
  ASSERT_EQ(server_connections(*inspect), 0u);
  test_support::http_get(target.metrics_port);
  std::this_thread::sleep_for(200ms);
  const ProcSample idle = sample_process(pid, since_start());

  Stats stats;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (std::uint32_t i = 0; i < 6; ++i)
    load.emplace_back([&, i] { run_echo_client(target, stop, stats, 1000 + i); });
  for (std::uint32_t i = 0; i < 2; ++i)
    load.emplace_back([&, i] { run_churn(target, stop, stats, 2000 + i); });
  for (std::uint32_t i = 0; i < 2; ++i)
    load.emplace_back([&, i] { run_slow_reader(target, stop, stats, 3000 + i); });
  for (int i = 0; i < 2; ++i) load.emplace_back([&] { run_watcher(target, stop, stats); });
  load.emplace_back([&] { run_control_poller(target, stop, stats); });
  load.emplace_back([&] { run_scraper(target, stop, stats); });

  std::vector<ProcSample> samples{idle};
  const auto load_end = start + std::chrono::seconds(load_seconds());
  auto next = start + 10s;
  while (next <= load_end) {
    pump_output(daemon, next);
    samples.push_back(sample_process(pid, since_start()));
    next += 10s;
  }
  stop.store(true);
  for (auto& t : load) t.join();
  const ProcSample loaded = samples.back();

  // The clients are gone: every connection closed, reactord's fds back to the idle baseline.
  ProcSample after{};
  const bool settled = test_support::eventually(
      [&] {
        after = sample_process(pid, since_start());
        return server_connections(*inspect) == 0 && after.fds <= idle.fds;
      },
      20000ms);

  // The figures (docs/RELIABILITY.md records a run).
  std::printf("soak: reactord --loops 2, %d s of load\n", load_seconds());
  for (const auto& s : samples) std::printf("soak: %s\n", to_string(s).c_str());
  std::printf("soak: after the clients left: %s\n", to_string(after).c_str());
  std::printf(
      "soak: echo %llu bytes checked in %llu round trips; slow readers %llu bytes checked; churn %llu "
      "connections (%llu reset); %llu watch streams, %llu events (%llu ended as slow); %llu control "
      "calls; %llu scrapes\n",
      static_cast<unsigned long long>(stats.echo_bytes_checked.load()),
      static_cast<unsigned long long>(stats.echo_rounds.load()),
      static_cast<unsigned long long>(stats.slow_bytes_checked.load()),
      static_cast<unsigned long long>(stats.churn_connections.load()),
      static_cast<unsigned long long>(stats.churn_resets.load()),
      static_cast<unsigned long long>(stats.watch_streams.load()),
      static_cast<unsigned long long>(stats.watch_events.load()),
      static_cast<unsigned long long>(stats.watch_ended_exhausted.load()),
      static_cast<unsigned long long>(stats.control_calls.load()),
      static_cast<unsigned long long>(stats.scrapes.load()));

  for (const auto& f : stats.failures()) ADD_FAILURE() << f;
  EXPECT_GT(stats.echo_bytes_checked.load(), 0u);
  EXPECT_GT(stats.slow_bytes_checked.load(), 0u);
  EXPECT_GT(stats.churn_resets.load(), 0u);
  EXPECT_GT(stats.watch_events.load(), 0u);
  EXPECT_GT(stats.control_calls.load(), 0u);
  EXPECT_GT(stats.scrapes.load(), 0u);

  // Growth bounds, from the first sample after warm-up.
  const ProcSample* warm = nullptr;
  for (const auto& s : samples) {
    if (s.seconds >= kWarmUpSeconds) {
      warm = &s;
      break;
    }
  }
  ASSERT_NE(warm, nullptr);
  const double warm_mib = static_cast<double>(warm->rss_kib) / 1024.0;
  const double loaded_mib = static_cast<double>(loaded.rss_kib) / 1024.0;
  EXPECT_LE(loaded_mib, warm_mib + kRssSlackMiB) << "RSS grew from " << warm_mib << " MiB after warm-up";
  // The sample halfway between warm-up and the end of the load.
  const double middle_seconds = (warm->seconds + loaded.seconds) / 2;
  const ProcSample* middle = warm;
  for (const auto& s : samples) {
    if (s.seconds <= middle_seconds) middle = &s;
  }
  const double middle_mib = static_cast<double>(middle->rss_kib) / 1024.0;
  EXPECT_LE(loaded_mib - middle_mib, kRssSecondHalfMiB)
      << "RSS still growing in the second half of the load: " << to_string(*middle) << " -> "
      << to_string(loaded);
  for (const auto& s : samples) {
    if (s.seconds >= warm->seconds) {
      EXPECT_LE(s.threads, warm->threads + kThreadSlack) << to_string(s);
    }
  }
  EXPECT_LE(after.threads, warm->threads + kThreadSlack);
  EXPECT_TRUE(settled) << "after the clients left: " << to_string(after) << ", idle: " << to_string(idle);
  EXPECT_LE(after.fds, idle.fds);
}

}  // namespace
}  // namespace reactord::soak
