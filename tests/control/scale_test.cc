// The control plane under many connections: ListConnections paging stays complete and fast,
// a slow watcher loses events instead of memory (and says how many), and random requests
// never take the server down. Prints the measured latencies.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "server/control/connection_watcher.h"
#include "control_test_util.h"

namespace reactord::test_support {
namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

TEST(Scale, ListConnectionsOverManyConnections) {
  constexpr int kConnections = 2000;
  InProcessReactord r(2);
  auto clients = connect_clients(r.data_port(), kConnections);
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(kConnections));
  ASSERT_TRUE(inspect_counts_connections(r, kConnections));
  auto stub = r.inspect();

  // One page of 100, many times: the p50 / max an operator sees.
  std::vector<double> page_ms;
  for (int i = 0; i < 20; ++i) {
    v1::ListConnectionsRequest request;
    request.set_max_results(100);
    v1::ListConnectionsResponse out;
    auto t = std::chrono::steady_clock::now();
    ASSERT_TRUE(stub->ListConnections(ctx().get(), request, &out).ok());
    page_ms.push_back(ms_since(t));
    ASSERT_EQ(out.connections_size(), 100);
    EXPECT_FALSE(out.end());
  }
  std::sort(page_ms.begin(), page_ms.end());

  // Every connection through pages of 1000 (the cap), ids strictly increasing.
  auto t = std::chrono::steady_clock::now();
  v1::ListConnectionsRequest request;
  request.set_max_results(5000);  // capped at 1000 by the server
  std::uint64_t last = 0;
  int seen = 0, pages = 0;
  for (; pages < 10; ++pages) {
    v1::ListConnectionsResponse out;
    ASSERT_TRUE(stub->ListConnections(ctx().get(), request, &out).ok());
    EXPECT_LE(out.connections_size(), 1000);
    for (const auto& c : out.connections()) {
      EXPECT_GT(c.id(), last);
      last = c.id();
      ++seen;
    }
    if (out.end()) break;
    request.set_start_id(last + 1);
  }
  double all_ms = ms_since(t);
  EXPECT_EQ(seen, kConnections);

  // A filter that matches nothing still scans everything.
  v1::ListConnectionsRequest none;
  none.mutable_filter()->set_peer("10.0.0.0/8");
  v1::ListConnectionsResponse empty;
  auto tf = std::chrono::steady_clock::now();
  ASSERT_TRUE(stub->ListConnections(ctx().get(), none, &empty).ok());
  double filter_ms = ms_since(tf);
  EXPECT_EQ(empty.connections_size(), 0);

  std::printf(
      "ListConnections over %d connections, 2 loops: page of 100 p50 %.2f ms, max %.2f ms;"
      " all %d in %d pages %.2f ms; non-matching filter %.2f ms\n",
      kConnections, page_ms[page_ms.size() / 2], page_ms.back(), seen, pages + 1, all_ms, filter_ms);
  EXPECT_LT(page_ms[page_ms.size() / 2], 1000.0);
}

TEST(Scale, SlowWatcherDropsAndCounts) {
  control::FilterSpec all;
  control::ConnectionWatcher watcher(all, /*queue_limit=*/3, /*loops_expected=*/{0});
  ConnectionRecord record;
  record.peer = *reactor::SocketAddress::parse("127.0.0.1:1000");
  record.local = *reactor::SocketAddress::parse("127.0.0.1:2000");
  watcher.on_attached(0, {});
  for (std::uint64_t id = 1; id <= 10; ++id) {
    record.id = id;
    watcher.on_opened(record);
  }
  std::uint64_t tail = 0;
  auto items = watcher.take(0ms, &tail);
  ASSERT_EQ(items.size(), 3u);  // synced + the first two opens
  EXPECT_EQ(items[0].kind, control::ConnectionWatcher::Kind::kSynced);
  EXPECT_EQ(tail, 8u);  // reported to the client as a "dropped" message
  EXPECT_EQ(watcher.dropped_total(), 8u);
  record.id = 11;
  watcher.on_closed(record);
  items = watcher.take(0ms, &tail);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].dropped, 0u);
  EXPECT_EQ(tail, 0u);
}

TEST(Scale, RandomRequestsNeverTakeTheServerDown) {
  InProcessReactord r(2);
  TcpClient client(r.data_port());
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
  auto inspect = r.inspect();
  auto control = r.control();
  std::mt19937_64 rng(12345);
  auto any_u64 = [&] { return rng() >> (rng() % 64); };
  auto any_i64 = [&] { return static_cast<std::int64_t>(rng()) >> (rng() % 64); };
  const char* peers[] = {
      "",        "127.0.0.1", "::",       "::/0", "0.0.0.0/0",        "256.0.0.1", "1.2.3.4/32",
      "[::1]:0", "x",         "1.1.1.1:", "/",    "::ffff:127.0.0.1", "1.2.3.4/8/"};
  auto random_filter = [&](v1::ConnectionFilter* f) {
    for (int i = rng() % 3; i > 0; --i) f->add_ids(any_u64());
    f->set_peer(peers[rng() % std::size(peers)]);
    f->set_local_port(static_cast<std::uint32_t>(any_u64()));
    if (rng() % 2) f->set_loop(static_cast<std::uint32_t>(rng() % 4));
    f->set_state(static_cast<v1::ConnectionState>(static_cast<int>(rng() % 8) - 1));
    f->set_min_age_ms(any_i64());
    f->set_min_idle_ms(any_i64());
    f->set_min_bytes_in(any_u64());
    f->set_min_buffered(any_u64());
    f->set_negate(rng() % 2);
  };
  int ok = 0, refused = 0;
  for (int i = 0; i < 300; ++i) {
    grpc::Status status;
    switch (rng() % 6) {
      case 0: {
        v1::ListConnectionsRequest q;
        random_filter(q.mutable_filter());
        q.set_start_id(any_u64());
        q.set_max_results(static_cast<std::uint32_t>(any_u64()));
        v1::ListConnectionsResponse a;
        status = inspect->ListConnections(ctx().get(), q, &a);
        break;
      }
      case 1: {
        v1::GetConnectionRequest q;
        q.set_id(any_u64());
        v1::Connection a;
        status = inspect->GetConnection(ctx().get(), q, &a);
        break;
      }
      case 2: {
        v1::ListEventsRequest q;
        if (rng() % 2) q.set_loop(static_cast<std::uint32_t>(rng() % 4));
        q.set_state(static_cast<v1::EventState>(static_cast<int>(rng() % 6) - 1));
        q.set_kind(static_cast<v1::EventKind>(static_cast<int>(rng() % 7) - 1));
        if (rng() % 2) q.set_fd(static_cast<std::int32_t>(any_i64()));
        if (rng() % 2) q.set_owner(any_u64());
        v1::ListEventsResponse a;
        status = inspect->ListEvents(ctx().get(), q, &a);
        break;
      }
      case 3: {
        v1::CloseConnectionsRequest q;  // dry run: random selection, nothing closed
        random_filter(q.mutable_filter());
        q.set_all(rng() % 2);
        q.set_mode(static_cast<v1::CloseMode>(static_cast<int>(rng() % 5) - 1));
        q.set_deadline_ms(any_i64());
        q.set_dry_run(true);
        v1::CloseConnectionsResponse a;
        status = control->CloseConnections(ctx().get(), q, &a);
        break;
      }
      case 4: {
        v1::ExitLoopRequest q;  // only ever refused: a loop that does not exist or bad delay
        q.set_loop(2 + static_cast<std::uint32_t>(rng() % 100));
        q.set_delay_ms(any_i64());
        v1::LoopActionResponse a;
        status = control->ExitLoop(ctx().get(), q, &a);
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        break;
      }
      default: {
        v1::DrainRequest q;  // negative values only: refused
        q.set_deadline_ms(-1 - static_cast<std::int64_t>(rng() % 1000));
        v1::DrainResponse a;
        status = control->Drain(ctx().get(), q, &a);
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        break;
      }
    }
    EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                status.error_code() == grpc::StatusCode::NOT_FOUND)
        << status.error_code() << " " << status.error_message();
    (status.ok() ? ok : refused)++;
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(refused, 0);
  // Still serving, and the client is still echoed.
  v1::ServerInfo info;
  ASSERT_TRUE(inspect->GetServerInfo(ctx().get(), {}, &info).ok());
  EXPECT_EQ(info.state(), v1::SERVER_STATE_SERVING);
  EXPECT_EQ(info.connections(), 1u);
  client.send_all("alive\n");
  EXPECT_EQ(client.read_exactly(6), "alive\n");
}

}  // namespace
}  // namespace reactord::test_support
