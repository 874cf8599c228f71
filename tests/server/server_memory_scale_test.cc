// Issue #19's figure, at its own scale: the heap bytes that 10,000 idle, greeted connections
// hold in reactord — the Connection, its BufferEvent with the read Event in place, the registry
// entry (its unused room included), the base's fd slot, the idle tracker's hook — counted by
// the heap meter (as server_memory_test does at 3,904). The clients are in a child process
// (client_holder, as in the scale suite): one process may open 20,000 fds here, and 10,000
// connections need 20,000 fds with both ends in one process. Label `scale`: run once in CI,
// never under a sanitizer. The RSS figure of a release reactord is bench/echo/run.py's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "reactor/event.h"
#include "scale_harness.h"
#include "server/connection.h"
#include "server/loop_worker.h"
#include "inspected_connections.h"
#include "server_fixture.h"
#include "support/heap_meter.h"

namespace reactord::test_support {
namespace {

constexpr double kBudgetBytes = 256;  // issue #19's target
constexpr int kWarm = 96;
constexpr int kIdle = 10000 - kWarm;

// The process's resident set (VmRSS), in bytes; printed beside the heap figure, not asserted:
// RSS moves with page granularity and with the test's own threads.
long long rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

// Runs nothing on loop 0, twice: once the second has run, the first batch's functions (and
// what they held) are destroyed.
void settle(Server& server) {
  on_loop(server, 0, [](LoopWorker&) {});
  on_loop(server, 0, [](LoopWorker&) {});
}

TEST(ServerMemoryScale, TenThousandIdleConnectionsHoldAtMost256HeapBytesEach) {
  Config config = test_config();
  config.log_level = LogLevel::kWarn;  // no log line per accepted client
  config.max_connections = 12000;
  RunningServer s(config);
  scale::ClientHolder holder(CLIENT_HOLDER_BIN, s.server.listen_address().port());
  // Warm-up: the loop's one-time allocations (spare read block, first registry block).
  ASSERT_EQ(holder.command("open warm " + std::to_string(kWarm) + " 127.0.0.1"),
            "ok " + std::to_string(kWarm));
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == static_cast<std::size_t>(kWarm); }));
  // The base's fd table (8 bytes per fd number) grown beforehand and counted at its nominal
  // 8 bytes per connection, as in server_memory_test: its last doubling's unused room is a
  // figure of where the fd numbers end, not of a connection.
  {
    const reactor::UniqueFd probe(::dup(STDERR_FILENO));
    ASSERT_TRUE(probe.valid());
    const int high_fd = ::dup2(probe.get(), kWarm + kIdle + 512);
    ASSERT_GE(high_fd, 0);
    on_loop(s.server, 0, [high_fd](LoopWorker& w) {
      reactor::Event grow(w.base(), high_fd, reactor::kRead, [](int, reactor::EventFlags) {});
      grow.add();
    });
    ::close(high_fd);
  }
  settle(s.server);

  const long long rss_before = rss_bytes();
  const HeapMeter meter;
  ASSERT_EQ(holder.command("open idle " + std::to_string(kIdle) + " 127.0.0.1", std::chrono::seconds(300)),
            "ok " + std::to_string(kIdle))
      << "every client connected and greeted";
  ASSERT_TRUE(
      eventually([&] { return s.server.open_connections() == static_cast<std::size_t>(kWarm + kIdle); },
                 std::chrono::seconds(120)));
  settle(s.server);
  constexpr double kFdSlot = sizeof(void*);  // the base's fd table: one pointer per fd
  const double per_connection = meter.bytes_per(kIdle) + kFdSlot;
  const double rss_per_connection = static_cast<double>(rss_bytes() - rss_before) / kIdle;
  std::printf(
      "[memory] reactord: %.1f heap bytes per idle connection at %d connections (Connection %zu B); "
      "RSS of this test process %.0f B per connection\n",
      per_connection, kWarm + kIdle, sizeof(Connection), rss_per_connection);
  RecordProperty("heap_bytes_per_idle_connection", static_cast<int>(per_connection));
  EXPECT_GT(per_connection, 0.0);
  EXPECT_LE(per_connection, kBudgetBytes);

  // Inspection is all there at this scale too.
  expect_inspection_whole(s.server, kWarm + kIdle);
  EXPECT_EQ(holder.command("stats idle"),
            "ok open=" + std::to_string(kIdle) + " peer_closed=0 echoed=0 errors=0")
      << "the server closed none of them";
}

}  // namespace
}  // namespace reactord::test_support
