// What an idle client costs reactord on the heap (issue #19): a counting operator new measures
// the bytes (usable sizes, as malloc hands them out) that N idle, greeted connections hold —
// the Connection, its BufferEvent with the read Event in place, the registry entry, the base's
// fd slot, the idle tracker's hook — with inspection on: owner tags and event ids stay
// available, ListEvents sees every connection's read event. Heap bytes, not RSS: RSS moves
// with page granularity and other threads; the RSS figure is in reactord_process_test and in
// bench/echo/run.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "reactor/event.h"
#include "server/connection.h"
#include "server/loop_worker.h"
#include "inspected_connections.h"
#include "server_fixture.h"
#include "support/heap_meter.h"

namespace reactord::test_support {
namespace {

// Where the budget stood when this test was written (docs/PERFORMANCE.md, "Idle memory"):
// 496 bytes per idle connection before issue #19's work. The target is 256.
// Step 1: 248 (BufferEvent state, read Event in place) + 104 (Connection) + 16 (registry) + 8
// (fd slot) = 376. Step 2: the byte counters' high halves out of the state (232): 360.
// Step 3: Connection 104 -> 88 (the peer in 18 bytes, rare fields in the loop's side state):
// 344. Step 4: a Buffer keeps only its tail (circular chain), 32 -> 24 bytes; the state 216: 328.
// Step 5: the read event without a timer part (IoEvent, 80 bytes instead of 112); the state
// 184: 296. Step 6: Connection 88 -> 72 (its id is the BufferEvent's owner tag; the
// bytes-out baseline in 32 bits, state and close reason as bit-fields): 280. Step 7: a Buffer 24 -> 16
// (its length callback in a process-wide table, a bit of the length saying it has one); the
// state 168: 264. Step 8: Connection 72 -> 56 (it is its BufferEvent, a private base: one shared
// callbacks object instead of a vtable pointer each; its loop's context is the base's user
// data instead of a reference each; the idle hook unchanged, its time exact): 248. The issue's
// target, 256, is the bound.
constexpr double kBudgetBytes = 256;

TEST(ServerMemory, IdleConnectionHeapBytesWithInspectionKept) {
  Config config = test_config();
  config.log_level = LogLevel::kWarn;  // no log line per accepted client
  config.max_connections = 10000;
  RunningServer s(config);
  // Warm-up: the loop's one-time allocations (spare read block, first vector growth).
  constexpr int kWarm = 96;
  // 4000 - kWarm more: the registry (16 B entries) ends near a power of two (4096), so its
  // vector's unused capacity stays small, as in a server with a steady population.
  constexpr int kIdle = 4000 - kWarm;
  std::vector<reactor::UniqueFd> clients;
  clients.reserve(kWarm + kIdle);
  for (int i = 0; i < kWarm; ++i) clients.push_back(s.connect_greeted());
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == static_cast<std::size_t>(kWarm); }));
  // The base's fd table (8 bytes per fd number) is grown beforehand and counted at its
  // nominal 8 bytes per connection below: in this process the clients' fds interleave with
  // the server's, so the table would hold two slots per connection plus whatever its last
  // doubling left unused — a figure of this test's layout, not of reactord's.
  const int high_fd = ::dup2(clients.front().get(), 3 * (kWarm + kIdle) + 256);
  ASSERT_GE(high_fd, 0);
  on_loop(s.server, 0, [high_fd](LoopWorker& w) {
    reactor::Event grow(w.base(), high_fd, reactor::kRead, [](int, reactor::EventFlags) {});
    grow.add();
  });
  ::close(high_fd);
  on_loop(s.server, 0, [](LoopWorker&) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the posted function is gone

  const test_support::HeapMeter meter;
  for (int i = 0; i < kIdle; ++i) {
    clients.push_back(s.connect());
    ASSERT_TRUE(clients.back().valid());
  }
  // Every one greeted (accepted, started, its greeting sent at once).
  const std::string& greeting = s.server.config().greeting;
  for (int i = kWarm; i < kWarm + kIdle; ++i) {
    ASSERT_EQ(read_exactly(clients[i].get(), greeting.size()), greeting) << i;
  }
  ASSERT_TRUE(
      eventually([&] { return s.server.open_connections() == static_cast<std::size_t>(kWarm + kIdle); }));
  on_loop(s.server, 0, [](LoopWorker&) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  constexpr double kFdSlot = sizeof(void*);  // the base's fd table: one pointer per fd
  const double per_connection = meter.bytes_per(kIdle) + kFdSlot;
  std::printf("[memory] reactord: %.1f heap bytes per idle connection (%d connections; Connection %zu B)\n",
              per_connection, kWarm + kIdle, sizeof(Connection));
  RecordProperty("heap_bytes_per_idle_connection", static_cast<int>(per_connection));
  EXPECT_GT(per_connection, 0.0);
  EXPECT_LE(per_connection, kBudgetBytes);

  // Inspection is all there.
  expect_inspection_whole(s.server, kWarm + kIdle);
}

}  // namespace
}  // namespace reactord::test_support
