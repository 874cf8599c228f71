// reactor-bench: echo load generator on our reactor. Talks only to the address it is given.
//   reactor-bench HOST:PORT -c 50 -d 4 -s 256 -t 5s   50 connections, 4 messages of 256 bytes
//                                                    in flight each, for 5 s once all are greeted
//   reactor-bench HOST:PORT --idle 10000 --hold 5s [--pid PID]
//                                                    10000 idle connections held 5 s; with
//                                                    --pid, the server's RSS per connection
// Every echoed byte is checked. Prints a human summary, then one machine-readable line:
//   RESULT {"mode":"echo",...}
// Exit code 0 when every connection worked and no byte was wrong.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "client/bench_connection.h"
#include "client/cli_common.h"
#include "client/main_guard.h"
#include "units/units.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/socket_address.h"

using reactord::bench::BenchConnection;
using reactord::bench::BenchStats;

namespace {

// Connects in flight at once: beyond the listen backlog, SYNs would be dropped and retried.
constexpr std::size_t kMaxPendingConnects = 256;

// VmRSS of a process in KiB, or nullopt.
std::optional<long> rss_kib(long pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return std::nullopt;
}

std::uint32_t percentile(std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(std::llround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(i, sorted.size() - 1)];
}

struct Run {
  reactor::EventBase base;
  reactor::SocketAddress address;
  BenchConnection::Options options;
  BenchStats stats;
  std::vector<std::unique_ptr<BenchConnection>> connections;
  std::size_t target = 0;   // connections to open
  std::size_t started = 0;  // connects issued
  std::size_t settled = 0;  // ready or failed
  std::size_t ready = 0;
  reactor::TimePoint first_ready{};
  bool all_settled = false;
  std::function<void()> on_all_settled;

  void start_more() {
    while (started < target && started - settled < kMaxPendingConnects) {
      const std::size_t i = started++;
      auto c = std::make_unique<BenchConnection>(base, i, options, stats,
                                                 [this](BenchConnection& conn) { on_ready(conn); });
      BenchConnection* raw = c.get();
      connections.push_back(std::move(c));
      if (!raw->connect(address)) on_ready(*raw);
    }
  }

  void on_ready(BenchConnection& c) {
    ++settled;
    if (c.phase() == BenchConnection::Phase::kRunning || c.phase() == BenchConnection::Phase::kIdle) {
      if (ready++ == 0) first_ready = reactor::Clock::now();
    }
    if (settled == target && !all_settled) {
      all_settled = true;
      if (on_all_settled) on_all_settled();
    }
    // Not from inside a callback chain that is still connecting: post the next batch.
    base.post([this] { start_more(); });
  }
};

}  // namespace

namespace {

int run(int argc, char** argv) {
  std::string target_text;
  std::size_t connections = 10, depth = 1, idle = 0;
  std::string size_text = "64";
  std::string duration_text = "5s", hold_text = "5s", timeout_text = "30s";
  std::string greeting = "Hello, World!\n";
  long pid = 0;

  CLI::App app{"reactor-bench: echo load generator (checks every byte)"};
  app.set_version_flag("--version", std::string("reactor-bench ") + REACTORD_VERSION);
  app.add_option("address", target_text, "host:port of the echo server")->required();
  app.add_option("-c,--connections", connections, "Connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("-d,--depth", depth, "Messages in flight per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("-s,--size", size_text, "Bytes per message, 1 to 16MiB (e.g. 64, 4K)")
      ->capture_default_str()
      ->check(reactord::cli::size());
  app.add_option("-t,--duration", duration_text,
                 "Echo time once every connection is greeted (e.g. 5s, 500ms); the connect phase before it "
                 "is bounded by --timeout")
      ->capture_default_str()
      ->check(reactord::cli::duration());
  app.add_option("--idle", idle, "Idle mode: open this many connections, check the greeting, hold them")
      ->check(CLI::Range(1, 100000));
  app.add_option("--hold", hold_text, "Idle mode: how long to hold the connections")
      ->capture_default_str()
      ->check(reactord::cli::duration());
  app.add_option("--timeout", timeout_text, "Bound on the connect phase (every connection greeted or failed)")
      ->capture_default_str()
      ->check(reactord::cli::duration());
  app.add_option("--pid", pid, "Idle mode: server pid, to report its RSS per idle connection");
  app.add_option("--greeting", greeting, "Greeting the server sends first")->capture_default_str();
  app.footer(
      "Examples:\n"
      "  reactor-bench 127.0.0.1:9995 -c 50 -d 4 -s 256 -t 5s\n"
      "  reactor-bench 127.0.0.1:9995 --idle 10000 --hold 5s --pid $(pidof reactord)\n"
      "Durations: 500ms, 5s, 2m (a unit is required). Sizes: 256, 4K = 4KiB (powers of 1024).\n"
      "Exit codes: 0 every connection worked and every byte matched, 1 errors, 2 usage error.");
  if (auto code = reactord::cli::parse(app, argc, argv, "reactor-bench")) return *code;
  // The validators have accepted these: they parse.
  auto duration = *reactord::units::parse_duration(duration_text);
  auto hold = *reactord::units::parse_duration(hold_text);
  auto connect_timeout = *reactord::units::parse_duration(timeout_text);
  const std::uint64_t size_bytes = *reactord::units::parse_size(size_text);
  if (duration.count() == 0) {
    std::fprintf(stderr, "reactor-bench: invalid --duration '%s': must be more than 0\n",
                 duration_text.c_str());
    return reactord::cli::kExitUsage;
  }
  if (size_bytes < 1 || size_bytes > 16 * 1024 * 1024) {
    std::fprintf(stderr, "reactor-bench: invalid --size '%s': from 1 to 16MiB\n", size_text.c_str());
    return reactord::cli::kExitUsage;
  }
  const std::size_t size = static_cast<std::size_t>(size_bytes);
  std::string error;
  auto address = reactor::SocketAddress::resolve(target_text, &error);
  if (!address) {
    std::fprintf(stderr, "reactor-bench: invalid address '%s': %s\n", target_text.c_str(), error.c_str());
    return reactord::cli::kExitUsage;
  }

  Run run;
  run.address = *address;
  run.options.greeting = greeting;
  run.options.message_size = size;
  const bool idle_mode = idle > 0;
  run.options.depth = idle_mode ? 0 : depth;
  run.target = idle_mode ? idle : connections;
  if (!idle_mode) run.stats.latencies_us.reserve(1 << 20);

  std::optional<long> rss_before, rss_after;
  if (idle_mode && pid > 0) rss_before = rss_kib(pid);

  const reactor::TimePoint start = reactor::Clock::now();
  reactor::TimePoint end{};
  reactor::TimePoint settled_at{};  // idle mode: every connection greeted (or failed)
  // One timer bounds the run: the echo duration, or the idle connect phase then the hold.
  auto stop_timer = reactor::Event::timer(run.base, [&](int, reactor::EventFlags) {
    end = reactor::Clock::now();
    for (auto& c : run.connections) c->stop();
    run.base.loopbreak();
  });
  // Both modes: the connect phase first, bounded by --timeout, then the hold (idle) or the
  // echo time from the moment every connection is greeted or failed. A duration counted from
  // the start would end a short run on a slow server (or a loaded machine) before its clients
  // were greeted, and call them failures.
  stop_timer->add(connect_timeout);
  run.on_all_settled = [&] {
    settled_at = reactor::Clock::now();
    if (idle_mode && pid > 0) rss_after = rss_kib(pid);
    stop_timer->add(idle_mode ? hold : duration);  // restart: from now
  };
  run.base.post([&run] { run.start_more(); });
  run.base.loop(reactor::kLoopNoExitOnEmpty);
  if (end == reactor::TimePoint{}) end = reactor::Clock::now();
  if (idle_mode && pid > 0 && !rss_after) rss_after = rss_kib(pid);

  const BenchStats& s = run.stats;
  const std::uint64_t not_ready = run.target - run.ready;
  const std::uint64_t errors = s.connect_errors + s.io_errors + s.mismatches;
  char json[1024];
  if (idle_mode) {
    long per_conn = 0;
    if (rss_before && rss_after && run.ready > 0) {
      per_conn = (*rss_after - *rss_before) * 1024 / static_cast<long>(run.ready);
    }
    const double setup_s =
        settled_at == reactor::TimePoint{} ? -1.0 : std::chrono::duration<double>(settled_at - start).count();
    std::printf("idle: %zu/%zu connections ready in %.3f s (%.0f connections/s) and held %s; errors %" PRIu64
                "\n",
                run.ready, run.target, setup_s, setup_s > 0 ? static_cast<double>(run.ready) / setup_s : 0.0,
                hold_text.c_str(), errors);
    if (rss_before && rss_after) {
      std::printf("server RSS: %ld KiB before, %ld KiB with the connections: %ld bytes per connection\n",
                  *rss_before, *rss_after, per_conn);
    }
    std::snprintf(json, sizeof json,
                  "{\"mode\":\"idle\",\"connections\":%zu,\"ready\":%zu,\"errors\":%" PRIu64
                  ",\"connect_errors\":%" PRIu64 ",\"greeting_errors\":%" PRIu64
                  ",\"server_rss_before_kib\":%ld,\"server_rss_after_kib\":%ld,"
                  "\"server_bytes_per_connection\":%ld,\"setup_s\":%.3f}",
                  run.target, run.ready, errors, s.connect_errors, s.greeting_errors, rss_before.value_or(-1),
                  rss_after.value_or(-1), per_conn, setup_s);
  } else {
    const reactor::TimePoint from = run.ready > 0 ? run.first_ready : start;
    const double seconds = std::max(1e-6, std::chrono::duration<double>(end - from).count());
    std::vector<std::uint32_t> lat = s.latencies_us;
    std::sort(lat.begin(), lat.end());
    const double msgs_per_s = static_cast<double>(s.messages) / seconds;
    const double mb_per_s = static_cast<double>(s.bytes) / seconds / 1e6;
    const std::uint32_t p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99),
                        p999 = percentile(lat, 0.999);
    std::printf("echo: %zu/%zu connections, depth %zu, %zu-byte messages, %.2f s\n", run.ready, run.target,
                depth, size, seconds);
    std::printf("  %.0f msgs/s, %.2f MB/s (echoed and verified)\n", msgs_per_s, mb_per_s);
    std::printf("  latency p50 %u us, p99 %u us, p99.9 %u us\n", p50, p99, p999);
    std::printf("  errors: %" PRIu64 " (connect %" PRIu64 ", io %" PRIu64 ", mismatched %" PRIu64 ")\n",
                errors, s.connect_errors, s.io_errors, s.mismatches);
    std::snprintf(json, sizeof json,
                  "{\"mode\":\"echo\",\"connections\":%zu,\"ready\":%zu,\"depth\":%zu,\"size\":%zu,"
                  "\"seconds\":%.3f,\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
                  ",\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"p50_us\":%u,\"p99_us\":%u,\"p999_us\":%u,"
                  "\"errors\":%" PRIu64 ",\"connect_errors\":%" PRIu64 ",\"io_errors\":%" PRIu64
                  ",\"mismatches\":%" PRIu64 ",\"greeting_errors\":%" PRIu64 "}",
                  run.target, run.ready, depth, size, seconds, s.messages, s.bytes, msgs_per_s, mb_per_s, p50,
                  p99, p999, errors, s.connect_errors, s.io_errors, s.mismatches, s.greeting_errors);
  }
  std::printf("RESULT %s\n", json);
  std::fflush(stdout);
  run.connections.clear();  // closes the sockets, on this (the loop) thread
  return errors == 0 && not_ready == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return reactord::cli::run_main("reactor-bench", 1, run, argc, argv); }
