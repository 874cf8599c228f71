// The echo service in-process: greeting, byte-exact echo, many clients, several loops,
// observers, admin close.
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <set>

#include "server/connection_registry.h"
#include "server_fixture.h"

namespace reactord::test_support {
namespace {

TEST(ServerEcho, GreetsThenEchoesEveryByteExactly) {
  RunningServer s(test_config());
  EXPECT_EQ(s.server.state(), ServerState::kServing);
  reactor::UniqueFd fd = s.connect_greeted();
  // Every byte value, then 1 MiB of random bytes (more than one read, several blocks).
  std::string data;
  for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  std::mt19937 rng(42);
  for (int i = 0; i < (1 << 20); ++i) data.push_back(static_cast<char>(rng()));
  std::string echoed;
  std::thread writer([&] { EXPECT_TRUE(write_all(fd.get(), data, 10000ms)); });
  echoed = read_exactly(fd.get(), data.size(), 10000ms);
  writer.join();
  EXPECT_TRUE(echoed == data) << "echo differs (" << echoed.size() << " of " << data.size() << " bytes)";
}

TEST(ServerEcho, CustomGreetingAndIpv6) {
  Config config = test_config();
  config.greeting = "Bonjour\r\n";
  config.listen = reactor::SocketAddress::ipv6_loopback(0);
  std::unique_ptr<RunningServer> s;
  try {
    s = std::make_unique<RunningServer>(config);
  } catch (const StartError& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  EXPECT_TRUE(s->server.listen_address().is_ipv6());
  reactor::UniqueFd fd = s->connect_greeted();
  ASSERT_TRUE(write_all(fd.get(), "ping\n"));
  EXPECT_EQ(read_exactly(fd.get(), 5), "ping\n");
}

// The registry shows each client's own address and port as its peer, IPv4 and IPv6 alike (the
// Connection keeps the peer in 18 bytes, not a sockaddr_in6: issue #19).
TEST(ServerEcho, RecordShowsEachClientsAddressAndPortAsItsPeer) {
  for (const bool v6 : {false, true}) {
    Config config = test_config();
    config.listen = v6 ? reactor::SocketAddress::ipv6_loopback(0) : reactor::SocketAddress::ipv4_loopback(0);
    std::unique_ptr<RunningServer> s;
    try {
      s = std::make_unique<RunningServer>(config);
    } catch (const StartError& e) {
      if (v6) GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
      throw;
    }
    std::vector<reactor::UniqueFd> clients;
    std::set<std::string> mine;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(s->connect_greeted());
      mine.insert(reactor::SocketAddress::local_of(clients.back().get()).to_string());
    }
    auto records = on_loop(s->server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
    ASSERT_EQ(records.size(), 3u);
    std::set<std::string> peers;
    for (const auto& r : records) {
      EXPECT_EQ(r.peer.is_ipv6(), v6);
      EXPECT_NE(r.peer.port(), 0u);
      peers.insert(r.peer.to_string());
    }
    EXPECT_EQ(peers, mine) << (v6 ? "IPv6" : "IPv4");
  }
}

TEST(ServerEcho, Serves500ConcurrentClients) {
  RunningServer s(test_config());
  std::vector<reactor::UniqueFd> clients;
  for (int i = 0; i < 500; ++i) {
    clients.push_back(s.connect());
    ASSERT_TRUE(clients.back().valid()) << "client " << i;
  }
  for (auto& fd : clients) ASSERT_EQ(read_exactly(fd.get(), 14), "Hello, World!\n");
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == 500; }));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(write_all(clients[i].get(), "client " + std::to_string(i) + "\n"));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string want = "client " + std::to_string(i) + "\n";
    EXPECT_EQ(read_exactly(clients[i].get(), want.size()), want);
  }
  auto records = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  ASSERT_EQ(records.size(), 500u);
  std::set<std::uint64_t> ids;
  for (const auto& r : records) {
    ids.insert(r.id);
    EXPECT_EQ(r.state, ConnectionState::kOpen);
    EXPECT_TRUE(r.peer.is_loopback());
    EXPECT_EQ(r.local.port(), s.server.listen_address().port());
    EXPECT_NE(r.read_event_id, 0u);
  }
  EXPECT_EQ(ids.size(), 500u);
  EXPECT_EQ(s.server.loop(0).counters().accepted.get(), 500u);
  clients.clear();
  EXPECT_TRUE(eventually([&] { return s.server.open_connections() == 0; }));
  EXPECT_TRUE(eventually([&] {
    return s.server.loop(0).counters().closed[static_cast<std::size_t>(CloseReason::kPeerEof)].get() == 500;
  }));
}

// Connections on each loop, their ids; the ids are unique across loops.
void expect_both_loops_serve(AcceptMode mode) {
  Config config = test_config();
  config.loops = 2;
  config.accept_mode = mode;
  RunningServer s(config);
  ASSERT_EQ(s.server.loop_count(), 2u);
  std::vector<reactor::UniqueFd> clients;
  for (int i = 0; i < 64; ++i) clients.push_back(s.connect_greeted());
  for (auto& fd : clients) {
    ASSERT_TRUE(write_all(fd.get(), "x"));
    ASSERT_EQ(read_exactly(fd.get(), 1), "x");
  }
  auto loop0 = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  auto loop1 = on_loop(s.server, 1, [](LoopWorker& w) { return w.registry().snapshot(); });
  EXPECT_EQ(loop0.size() + loop1.size(), 64u);
  EXPECT_GT(loop0.size(), 0u) << to_string(mode);
  EXPECT_GT(loop1.size(), 0u) << to_string(mode);
  std::set<std::uint64_t> ids;
  for (const auto& r : loop0) {
    ids.insert(r.id);
    EXPECT_EQ(r.loop, 0u);
  }
  for (const auto& r : loop1) {
    ids.insert(r.id);
    EXPECT_EQ(r.loop, 1u);
  }
  EXPECT_EQ(ids.size(), 64u) << "ids must be unique across loops";
}

TEST(ServerEcho, TwoLoopsWithReusePortServeOnBothWithDistinctIds) {
  expect_both_loops_serve(AcceptMode::kReusePort);
}

TEST(ServerEcho, TwoLoopsWithOneAcceptorServeOnBothWithDistinctIds) {
  expect_both_loops_serve(AcceptMode::kSingle);
}

struct RecordingObserver : ConnectionObserver {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  void on_attached(unsigned /*loop*/, const std::vector<ConnectionRecord>& current) override {
    add("attached " + std::to_string(current.size()));
  }
  void on_opened(const ConnectionRecord& r) override { add("opened " + std::to_string(r.id)); }
  void on_state_changed(const ConnectionRecord& r) override {
    add(std::string("state ") + to_string(r.state));
  }
  void on_closed(const ConnectionRecord& r) override {
    add(std::string("closed ") + std::to_string(r.id) + " " +
        (r.close_reason ? to_string(*r.close_reason) : "?"));
  }
  std::vector<std::string> copy() {
    std::lock_guard lock(mutex);
    return events;
  }
};

TEST(ServerEcho, ObserversSeeOpenAndCloseOnTheLoopThread) {
  RunningServer s(test_config());
  reactor::UniqueFd before = s.connect_greeted();
  auto observer = std::make_shared<RecordingObserver>();
  const std::uint64_t observer_id = s.server.add_observer(observer);
  ASSERT_TRUE(eventually([&] { return !observer->copy().empty(); }));
  EXPECT_EQ(observer->copy().front(), "attached 1");
  reactor::UniqueFd fd = s.connect_greeted();
  auto records = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  ASSERT_EQ(records.size(), 2u);
  const std::uint64_t id = records.back().id;
  fd.reset();
  const std::string want_closed = "closed " + std::to_string(id) + " peer_eof";
  ASSERT_TRUE(eventually([&] {
    auto e = observer->copy();
    return std::find(e.begin(), e.end(), want_closed) != e.end();
  })) << "events: "
      << observer->copy().size();
  auto e = observer->copy();
  EXPECT_NE(std::find(e.begin(), e.end(), "opened " + std::to_string(id)), e.end());
  s.server.remove_observer(observer_id);
  on_loop(s.server, 0, [](LoopWorker&) {});  // removal done
  const std::size_t count = observer->copy().size();
  before.reset();
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == 0; }));
  EXPECT_EQ(observer->copy().size(), count) << "removed observer still notified";
}

TEST(ServerEcho, AdminCloseEndsOneConnection) {
  RunningServer s(test_config());
  reactor::UniqueFd keep = s.connect_greeted();
  reactor::UniqueFd victim = s.connect_greeted();
  auto records = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  ASSERT_EQ(records.size(), 2u);
  const std::uint64_t id = records.back().id;
  EXPECT_TRUE(
      on_loop(s.server, 0, [id](LoopWorker& w) { return w.close_connection(id, CloseReason::kAdmin); }));
  EXPECT_FALSE(
      on_loop(s.server, 0, [](LoopWorker& w) { return w.close_connection(999999, CloseReason::kAdmin); }));
  EXPECT_TRUE(wait_closed(victim.get()));
  victim.reset();  // answer the server's FIN: its graceful close completes at once
  ASSERT_TRUE(write_all(keep.get(), "still here"));
  EXPECT_EQ(read_exactly(keep.get(), 10), "still here");
  EXPECT_TRUE(eventually([&] {
    return s.server.loop(0).counters().closed[static_cast<std::size_t>(CloseReason::kAdmin)].get() == 1;
  }));
}

TEST(ServerEcho, ExitingEveryLoopStopsTheServerCleanly) {
  Server server(test_config());
  server.start();
  reactor::UniqueFd fd = connect_to(server.listen_address());
  ASSERT_EQ(read_exactly(fd.get(), 14), "Hello, World!\n");
  server.exit_loop(0, std::chrono::milliseconds(50));
  EXPECT_EQ(server.wait(), 0);
  EXPECT_EQ(server.state(), ServerState::kStopped);
  EXPECT_TRUE(wait_closed(fd.get())) << "connections are closed at shutdown";
}

TEST(ServerEcho, StartFailsClearlyWhenTheAddressIsTaken) {
  RunningServer first(test_config());
  Config config = test_config();
  config.listen = first.server.listen_address();
  Server second(config);
  try {
    second.start();
    FAIL() << "second server bound the same address";
  } catch (const StartError& e) {
    EXPECT_NE(std::string(e.what()).find("Address already in use"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(config.listen.to_string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace reactord::test_support
