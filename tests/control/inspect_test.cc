// reactord.v1.Inspect over a real gRPC channel against an in-process reactord.
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>

#include "control_test_util.h"
#include "server/control/connection_watcher.h"

namespace reactord::test_support {
namespace {

v1::ListConnectionsResponse list(InProcessReactord& r, v1::ListConnectionsRequest request = {}) {
  v1::ListConnectionsResponse out;
  auto status = r.inspect()->ListConnections(ctx().get(), request, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out;
}

TEST(Inspect, ServerInfoDescribesTheRunningServer) {
  InProcessReactord r(2);
  v1::ServerInfo info;
  auto status = r.inspect()->GetServerInfo(ctx().get(), {}, &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(info.version().empty());
  EXPECT_EQ(info.pid(), ::getpid());
  EXPECT_EQ(info.loops(), 2u);
  EXPECT_EQ(info.state(), v1::SERVER_STATE_SERVING);
  EXPECT_TRUE(info.accepting());
  ASSERT_GE(info.listen_addresses_size(), 1);
  EXPECT_EQ(info.listen_addresses(0), "127.0.0.1:" + std::to_string(r.data_port()));
  EXPECT_EQ(info.control_address(), r.control_target());
  EXPECT_EQ(info.limits().at("max_connections"), 10000);
  EXPECT_GE(info.uptime_ms(), 0);
  EXPECT_GT(info.start_time_unix_ms(), 1'600'000'000'000);
  EXPECT_TRUE(info.backend() == "epoll" || info.backend() == "poll") << info.backend();
}

TEST(Inspect, ListConnectionsShowsARawTcpClientWithAddressesAndCounters) {
  InProcessReactord r;
  auto client = greeted_client(r.data_port());
  client->send_all("ping\n");
  ASSERT_EQ(client->read_exactly(5), "ping\n");

  v1::ListConnectionsResponse out;
  ASSERT_TRUE(eventually([&] {
    out = list(r);
    return out.connections_size() == 1 && out.connections(0).bytes_in() == 5;
  }));
  const auto& c = out.connections(0);
  EXPECT_TRUE(out.end());
  EXPECT_GT(c.id(), 0u);
  EXPECT_EQ(c.peer_address(), "127.0.0.1:" + std::to_string(client->local_port()));
  EXPECT_EQ(c.local_address(), "127.0.0.1:" + std::to_string(r.data_port()));
  EXPECT_EQ(c.state(), v1::CONNECTION_STATE_OPEN);
  EXPECT_EQ(c.bytes_in(), 5u);
  EXPECT_EQ(c.bytes_out(), kGreeting.size() + 5);
  EXPECT_EQ(c.output_buffered(), 0u);
  EXPECT_GE(c.age_ms(), 0);
}

TEST(Inspect, GetConnectionHasTcpInfoWatermarksAndItsEvents) {
  InProcessReactord r;
  auto client = greeted_client(r.data_port());
  auto first = list(r);
  ASSERT_EQ(first.connections_size(), 1);
  std::uint64_t id = first.connections(0).id();

  v1::GetConnectionRequest request;
  request.set_id(id);
  v1::Connection conn;
  auto status = r.inspect()->GetConnection(ctx().get(), request, &conn);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(conn.id(), id);
  EXPECT_GE(conn.fd(), 0);
  EXPECT_TRUE(conn.tcp_info().valid());
  EXPECT_EQ(conn.tcp_info().state(), 1u);  // TCP_ESTABLISHED
  EXPECT_GT(conn.tcp_info().snd_cwnd(), 0u);
  EXPECT_GT(conn.tcp_info().snd_mss(), 0u);
  ASSERT_GE(conn.events_size(), 1);
  bool has_read = false;
  for (const auto& e : conn.events()) {
    EXPECT_EQ(e.owner(), id);
    if (e.kind() == v1::EVENT_KIND_IO && e.fd() == conn.fd() &&
        e.requested().find("READ") != std::string::npos) {
      has_read = true;
      EXPECT_EQ(e.state(), v1::EVENT_STATE_PENDING);
    }
  }
  EXPECT_TRUE(has_read) << conn.DebugString();

  request.set_id(id + 1000);
  status = r.inspect()->GetConnection(ctx().get(), request, &conn);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Inspect, ListEventsShowsTheListenerAndEachConnectionsEvents) {
  InProcessReactord r;
  auto a = greeted_client(r.data_port());
  auto b = greeted_client(r.data_port());
  auto conns = list(r);
  ASSERT_EQ(conns.connections_size(), 2);

  v1::ListEventsResponse events;
  auto status = r.inspect()->ListEvents(ctx().get(), {}, &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The listener is the io event whose fd is bound to the data port (same process: ask the fd).
  bool listener = false;
  for (const auto& e : events.events()) {
    if (e.kind() == v1::EVENT_KIND_IO && e.fd() >= 0 &&
        reactor::SocketAddress::local_of(e.fd()).port() == r.data_port() && e.owner() == 0) {
      listener = true;
      EXPECT_EQ(e.state(), v1::EVENT_STATE_PENDING);
      EXPECT_NE(e.requested().find("READ"), std::string::npos);
    }
  }
  EXPECT_TRUE(listener) << events.DebugString();
  for (const auto& c : conns.connections()) {
    v1::ListEventsRequest by_owner;
    by_owner.set_owner(c.id());
    v1::ListEventsResponse mine;
    ASSERT_TRUE(r.inspect()->ListEvents(ctx().get(), by_owner, &mine).ok());
    ASSERT_GE(mine.events_size(), 1);
    bool pending_read = false;
    for (const auto& e : mine.events()) {
      EXPECT_EQ(e.owner(), c.id());
      EXPECT_EQ(e.loop(), c.loop());
      if (e.kind() == v1::EVENT_KIND_IO && e.state() == v1::EVENT_STATE_PENDING) pending_read = true;
    }
    EXPECT_TRUE(pending_read) << mine.DebugString();
  }
  // Counts cover every event of the loop; the pending filter returns only pending ones.
  EXPECT_GE(events.counts().pending(), 3u);
  v1::ListEventsRequest pending;
  pending.set_state(v1::EVENT_STATE_PENDING);
  v1::ListEventsResponse only_pending;
  ASSERT_TRUE(r.inspect()->ListEvents(ctx().get(), pending, &only_pending).ok());
  for (const auto& e : only_pending.events()) EXPECT_EQ(e.state(), v1::EVENT_STATE_PENDING);
  EXPECT_GE(only_pending.events_size(), 3);
}

TEST(Inspect, LoopStatsCountIterationsAndConnections) {
  InProcessReactord r(2);
  auto client = greeted_client(r.data_port());
  v1::GetLoopStatsResponse stats;
  auto status = r.inspect()->GetLoopStats(ctx().get(), {}, &stats);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(stats.loops_size(), 2);
  std::uint64_t conns = 0;
  for (const auto& l : stats.loops()) {
    EXPECT_GT(l.iterations(), 0u);
    EXPECT_GE(l.events().pending(), 1u);
    conns += l.connections();
  }
  EXPECT_EQ(conns, 1u);
  v1::GetLoopStatsRequest one;
  one.set_loop(1);
  ASSERT_TRUE(r.inspect()->GetLoopStats(ctx().get(), one, &stats).ok());
  ASSERT_EQ(stats.loops_size(), 1);
  EXPECT_EQ(stats.loops(0).loop(), 1u);
}

TEST(Inspect, FiltersSelectByPeerPortBytesAndNegation) {
  InProcessReactord r;
  auto quiet = greeted_client(r.data_port());
  auto talker = greeted_client(r.data_port());
  talker->send_all(std::string(1000, 'x'));
  ASSERT_EQ(talker->read_exactly(1000).size(), 1000u);

  v1::ListConnectionsRequest request;
  request.mutable_filter()->set_min_bytes_in(1000);
  ASSERT_TRUE(eventually([&] { return list(r, request).connections_size() == 1; }));
  auto busy = list(r, request);
  EXPECT_EQ(busy.connections(0).peer_address(), "127.0.0.1:" + std::to_string(talker->local_port()));

  request.mutable_filter()->set_negate(true);
  auto rest = list(r, request);
  ASSERT_EQ(rest.connections_size(), 1);
  EXPECT_EQ(rest.connections(0).peer_address(), "127.0.0.1:" + std::to_string(quiet->local_port()));

  v1::ListConnectionsRequest cidr;
  cidr.mutable_filter()->set_peer("127.0.0.0/8");
  EXPECT_EQ(list(r, cidr).connections_size(), 2);
  cidr.mutable_filter()->set_peer("10.0.0.0/8");
  EXPECT_EQ(list(r, cidr).connections_size(), 0);
  cidr.mutable_filter()->set_peer("127.0.0.1:" + std::to_string(quiet->local_port()));
  EXPECT_EQ(list(r, cidr).connections_size(), 1);

  v1::ListConnectionsRequest port;
  port.mutable_filter()->set_local_port(r.data_port());
  EXPECT_EQ(list(r, port).connections_size(), 2);
  port.mutable_filter()->set_local_port(r.data_port() == 1 ? 2 : 1);
  EXPECT_EQ(list(r, port).connections_size(), 0);

  v1::ListConnectionsRequest old;
  old.mutable_filter()->set_min_age_ms(3'600'000);
  EXPECT_EQ(list(r, old).connections_size(), 0);
}

TEST(Inspect, PagingIsStableAcrossPages) {
  InProcessReactord r(2);
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(greeted_client(r.data_port()));
  std::vector<std::uint64_t> seen;
  v1::ListConnectionsRequest request;
  request.set_max_results(2);
  for (int page = 0; page < 10; ++page) {
    auto out = list(r, request);
    for (const auto& c : out.connections()) seen.push_back(c.id());
    if (out.end()) break;
    ASSERT_EQ(out.connections_size(), 2);
    request.set_start_id(out.connections(1).id() + 1);
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
}

TEST(Inspect, BadRequestsAreInvalidArgumentNotCrashes) {
  InProcessReactord r;
  auto stub = r.inspect();
  v1::ListConnectionsResponse out;
  auto expect_invalid = [&](v1::ListConnectionsRequest request) {
    auto status = stub->ListConnections(ctx().get(), request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << request.DebugString();
    EXPECT_FALSE(status.error_message().empty());
  };
  for (const char* peer : {"10.0.0.0/33", "banana", "1.2.3.4/x", "::1/129", "[::1]", "1.2.3.4:99999"}) {
    v1::ListConnectionsRequest request;
    request.mutable_filter()->set_peer(peer);
    expect_invalid(request);
  }
  v1::ListConnectionsRequest negative;
  negative.mutable_filter()->set_min_idle_ms(-1);
  expect_invalid(negative);
  v1::ListConnectionsRequest bad_loop;
  bad_loop.mutable_filter()->set_loop(7);
  expect_invalid(bad_loop);
  v1::ListConnectionsRequest bad_state;
  bad_state.mutable_filter()->set_state(static_cast<v1::ConnectionState>(99));
  expect_invalid(bad_state);
  v1::ListConnectionsRequest bad_port;
  bad_port.mutable_filter()->set_local_port(70000);
  expect_invalid(bad_port);

  v1::ListEventsRequest bad_kind;
  bad_kind.set_kind(static_cast<v1::EventKind>(42));
  v1::ListEventsResponse events;
  EXPECT_EQ(stub->ListEvents(ctx().get(), bad_kind, &events).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetLoopStatsRequest bad_stats;
  bad_stats.set_loop(3);
  v1::GetLoopStatsResponse stats;
  EXPECT_EQ(stub->GetLoopStats(ctx().get(), bad_stats, &stats).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // The server is still fine.
  v1::ServerInfo info;
  EXPECT_TRUE(stub->GetServerInfo(ctx().get(), {}, &info).ok());
}

TEST(Inspect, ABusyLoopGivesDeadlineExceeded) {
  InProcessReactord r;
  // Occupy the loop thread longer than the RPC's deadline.
  r.server().loop(0).post([] { std::this_thread::sleep_for(800ms); });
  v1::ListConnectionsResponse out;
  auto status = r.inspect()->ListConnections(ctx(200ms).get(), {}, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Afterwards the loop answers again.
  EXPECT_TRUE(eventually([&] { return r.inspect()->ListConnections(ctx().get(), {}, &out).ok(); }));
}

TEST(Inspect, WatchStreamsExistingOpenedAndClosedWithReason) {
  InProcessReactord r;
  auto before = greeted_client(r.data_port());
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stub = r.inspect();
  auto reader = stub->WatchConnections(&watch_ctx, {});
  v1::ConnectionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_EXISTING);
  std::uint64_t existing_id = event.connection().id();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);

  auto after = greeted_client(r.data_port());
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_OPENED);
  EXPECT_EQ(event.connection().peer_address(), "127.0.0.1:" + std::to_string(after->local_port()));
  before.reset();  // client closes: peer EOF
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(reader->Read(&event));
    if (event.kind() == v1::ConnectionEvent::KIND_CLOSED) break;
  }
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_CLOSED);
  EXPECT_EQ(event.connection().id(), existing_id);
  EXPECT_EQ(event.reason(), "peer_eof");
  watch_ctx.TryCancel();
  while (reader->Read(&event)) {}
  reader->Finish();
}

// A loop that ends while a watch starts: the handler has counted it as running, then the loop
// ends before its listing runs. ExitLoop with a delay does this: the loop's own timer ends it
// after the current iteration, and a post that arrived during that iteration never runs. The
// watch must still end its initial listing with SYNCED rather than leave the operator waiting
// until the deadline (rpc_fuzz found such a stream reaching its 10 s deadline).
TEST(Inspect, WatchSyncsWhenALoopEndsBeforeItsListing) {
  InProcessReactord r(2);
  // A client on loop 0: its "existing" event shows that the handler has counted the loops.
  // (The kernel spreads clients over the loops' SO_REUSEPORT listeners.)
  v1::ListConnectionsRequest on_loop0;
  on_loop0.mutable_filter()->set_loop(0);
  std::vector<std::unique_ptr<TcpClient>> clients;
  while (clients.size() < 64 && list(r, on_loop0).connections_size() == 0) {
    clients.push_back(greeted_client(r.data_port()));
  }
  ASSERT_GT(list(r, on_loop0).connections_size(), 0);

  // Loop 1 busy until released, then it asks to exit from inside the iteration, as its
  // ExitLoop timer would: the watch's listing, posted meanwhile, is left for an iteration
  // that never comes.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> busy;
  LoopWorker& loop1 = r.server().loop(1);
  loop1.post([released, &busy, &loop1] {
    busy.set_value();
    released.wait_for(10s);
    loop1.exit_loop();
  });
  busy.get_future().wait();

  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() + 8s);
  auto stub = r.inspect();
  auto reader = stub->WatchConnections(&watch_ctx, {});
  v1::ConnectionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_EXISTING);
  EXPECT_EQ(event.connection().loop(), 0u);
  release.set_value();  // loop 1 ends; the listing it was asked for never runs
  ASSERT_TRUE(eventually([&] { return r.server().loop(1).ended(); }));

  bool synced = false;
  for (int i = 0; i < 128 && !synced && reader->Read(&event); ++i) {
    synced = event.kind() == v1::ConnectionEvent::KIND_SYNCED;
  }
  EXPECT_TRUE(synced) << "the watch never ended its initial listing";
  watch_ctx.TryCancel();
  while (reader->Read(&event)) {}
  reader->Finish();
  // Loop 0 still answers.
  EXPECT_GT(list(r, on_loop0).connections_size(), 0);
}

// The listing's bookkeeping on its own: each expected loop ends it once, by listing or by
// ending; a loop that was not expected, or reports twice, changes nothing.
TEST(Inspect, WatcherListingWaitsOnlyForLoopsStillRunning) {
  std::uint64_t tail = 0;
  auto kinds = [&](control::ConnectionWatcher& w) {
    std::vector<control::ConnectionWatcher::Kind> out;
    for (const auto& item : w.take(0ms, &tail)) out.push_back(item.kind);
    return out;
  };
  using Kind = control::ConnectionWatcher::Kind;
  control::ConnectionWatcher none({}, 16, {});  // no loop running: synced at once
  EXPECT_FALSE(none.listing());
  EXPECT_EQ(kinds(none), std::vector<Kind>{Kind::kSynced});

  control::ConnectionWatcher two({}, 16, {0, 1});
  two.on_loop_ended(5);  // not one of them
  two.on_attached(0, {});
  EXPECT_TRUE(two.listing());
  EXPECT_TRUE(kinds(two).empty());
  two.on_loop_ended(1);
  EXPECT_FALSE(two.listing());
  EXPECT_EQ(kinds(two), std::vector<Kind>{Kind::kSynced});
  two.on_attached(1, {});  // too late: no second marker
  two.on_loop_ended(0);
  EXPECT_TRUE(kinds(two).empty());
}

}  // namespace
}  // namespace reactord::test_support
