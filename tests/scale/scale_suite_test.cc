// The scale suite (label `scale`, run once in CI, never under a sanitizer): the reactord binary
// with --loops 2 and 19,000 live clients held by a child process (tests/scale/client_holder.cc;
// the fd limit is 20,000 per process), then every reactorctl command, as a person types it, and
// every RPC against it. The tests share that one server and run in order: each leaves the
// state the next expects (ScaleSuite::expected_open() says what is open).
//
// Clients come in groups, each from its own source address, so that a peer filter selects
// exactly one group and the holder knows each group's peer ports: every listing is checked
// against what the clients themselves know (each connection exactly once), not against the
// server's own answer. A group of "pump" clients echoes all along; after each step it must have
// echoed more, with no byte wrong.
//
// No timing is asserted here: bench/scale/ measures the same operations in a release build.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "reactord/v1/reactord.grpc.pb.h"
#include "scale_harness.h"

namespace reactord::scale {
namespace {

namespace v1 = reactord::v1;
using namespace std::chrono_literals;

struct GroupSpec {
  const char* name;
  const char* source;
  int clients;
};

// Clients that echo lines all through the suite (the "pump" group).
constexpr int kPumpClients = 32;

// 19,000 clients. A peer filter on a source address selects one group: 0 (10.0.0.0/8), 1, a
// default page (100), a page + 1, a full page of the maximum (1000), thousands to close.
constexpr GroupSpec kGroups[] = {
    {"one", "127.0.0.2", 1},         {"page", "127.0.0.3", 100},    {"page1", "127.0.0.4", 101},
    {"thousand", "127.0.0.5", 1000}, {"doomed", "127.0.0.6", 3000}, {"pump", "127.0.0.7", kPumpClients},
    {"bulk", "127.0.0.1", 14766},
};
constexpr int kTotal = 19000;
constexpr const char* kChurnSource = "127.0.0.8";  // opened and closed while watched
constexpr int kChurn = 50, kChurnClosed = 20;

template <typename Message>
Message parse_json(const std::string& text) {
  Message m;
  auto status = google::protobuf::util::JsonStringToMessage(text, &m);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << text.substr(0, 500);
  return m;
}

std::string source_of(const std::string& group) {
  for (const auto& g : kGroups) {
    if (group == g.name) return g.source;
  }
  return kChurnSource;
}

class ScaleSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reactord_ = new ReactordProcess(REACTORD_BIN,
                                    {"--loops", "2", "--max-connections", "19500", "--idle-timeout", "0"});
    if (!reactord_->ready()) {
      setup_error_ = "reactord did not start: " + reactord_->log();
      return;
    }
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(reactord_->control, grpc::InsecureChannelCredentials()));
    holder_ = new ClientHolder(CLIENT_HOLDER_BIN, reactord_->data_port);
    int sum = 0;
    for (const auto& g : kGroups) {
      std::string reply =
          holder_->command(std::string("open ") + g.name + " " + std::to_string(g.clients) + " " + g.source);
      if (reply != "ok " + std::to_string(g.clients)) {
        setup_error_ = std::string("opening ") + g.name + ": " + reply;
        return;
      }
      sum += g.clients;
    }
    if (sum != kTotal) setup_error_ = "the groups do not add up to 19,000";
    open_ = kTotal;
    if (holder_->command("pump pump on") != "ok") setup_error_ = "pump did not start";
  }

  static void TearDownTestSuite() {
    delete holder_;
    delete channel_;
    delete reactord_;
    holder_ = nullptr;
    channel_ = nullptr;
    reactord_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_FALSE(reactord_->wait_exit(0ms)) << "reactord is gone: " << reactord_->log();
  }

  // Every step ends by checking that the pumping clients kept echoing, intact.
  void TearDown() override {
    if (!holder_ || exited_) return;
    std::string stats = holder_->command("stats pump");
    auto echoed = reply_field(stats, "echoed");
    ASSERT_TRUE(echoed) << stats;
    EXPECT_EQ(reply_field(stats, "errors"), 0u) << stats;
    EXPECT_EQ(reply_field(stats, "open"), static_cast<std::uint64_t>(kPumpClients)) << stats;
    EXPECT_GT(*echoed, pumped_) << "the pump clients stopped echoing: " << stats;
    pumped_ = *echoed;
  }

  static CommandResult ctl(std::vector<std::string> args, std::chrono::milliseconds limit = 120s) {
    std::vector<std::string> argv = {REACTORCTL_BIN, "--target", reactord_->control, "--timeout", "60s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, limit);
  }

  static std::unique_ptr<v1::Inspect::Stub> inspect() { return v1::Inspect::NewStub(*channel_); }
  static std::unique_ptr<grpc::ClientContext> ctx(std::chrono::milliseconds limit = 60s) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + limit);
    return c;
  }

  // "127.0.0.3:41234" for each open client of the group, as the clients know them.
  static std::set<std::string> peers_of(const std::string& group) {
    std::set<std::string> out;
    for (auto port : holder_->ports(group)) {
      out.insert(source_of(group) + ":" + std::to_string(port));
    }
    return out;
  }
  static std::set<std::string> peers_of_all() {
    std::set<std::string> out;
    for (const auto& g : kGroups) out.merge(peers_of(g.name));
    return out;
  }

  // The listing's peers, checking that ids are strictly ascending (each connection once).
  static std::set<std::string> listed_peers(const v1::ListConnectionsResponse& list) {
    std::set<std::string> out;
    std::uint64_t last = 0;
    for (const auto& c : list.connections()) {
      EXPECT_GT(c.id(), last) << "ids out of order or repeated";
      last = c.id();
      EXPECT_TRUE(out.insert(c.peer_address()).second) << "peer twice: " << c.peer_address();
    }
    return out;
  }

  // `reactorctl --json conns ARGS`, parsed.
  static v1::ListConnectionsResponse conns(std::vector<std::string> args) {
    args.insert(args.begin(), {"--json", "conns"});
    CommandResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return parse_json<v1::ListConnectionsResponse>(r.out);
  }

  static std::uint64_t server_connections() {
    v1::ServerInfo info;
    if (!inspect()->GetServerInfo(ctx().get(), {}, &info).ok()) return ~0ull;
    return info.connections();
  }

  // Polls until the server counts `n` open connections (bounded).
  static bool server_counts(std::uint64_t n, std::chrono::milliseconds limit = 60s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (server_connections() == n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return server_connections() == n;
  }

  static inline ReactordProcess* reactord_ = nullptr;
  static inline ClientHolder* holder_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
  static inline std::string setup_error_;
  static inline std::uint64_t pumped_ = 0;
  static inline std::uint64_t open_ = 0;  // connections the server should count
  static inline bool exited_ = false;
};

TEST_F(ScaleSuite, InfoHealthStatsAndMetricsCountEveryClient) {
  ASSERT_TRUE(server_counts(kTotal)) << server_connections();

  CommandResult info = ctl({"--json", "info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  auto parsed = parse_json<v1::ServerInfo>(info.out);
  EXPECT_EQ(parsed.connections(), static_cast<std::uint64_t>(kTotal));
  EXPECT_EQ(parsed.loops(), 2u);
  EXPECT_EQ(parsed.state(), v1::SERVER_STATE_SERVING);
  EXPECT_EQ(parsed.pid(), reactord_->pid());
  CommandResult table = ctl({"info"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("19000"), std::string::npos) << table.out;

  CommandResult health = ctl({"health"});
  EXPECT_EQ(health.exit_code, 0) << health.out << health.err;
  EXPECT_NE(health.out.find("SERVING"), std::string::npos) << health.out;

  CommandResult stats = ctl({"--json", "stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  auto loops = parse_json<v1::GetLoopStatsResponse>(stats.out);
  ASSERT_EQ(loops.loops_size(), 2);
  std::uint64_t sum = 0;
  for (const auto& l : loops.loops()) {
    EXPECT_GT(l.connections(), 0u) << "reuseport left loop " << l.loop() << " without clients";
    // Each idle connection has its read pending. A pumping client's read may be active in the
    // very iteration that answers (its line arriving), or off while its echo waits to be sent.
    EXPECT_GE(l.events().pending() + l.events().active() + kPumpClients, l.connections())
        << "each connection reads: " << l.ShortDebugString();
    sum += l.connections();
  }
  EXPECT_EQ(sum, static_cast<std::uint64_t>(kTotal));
  CommandResult stats_one = ctl({"stats", "--loop", "1"});
  ASSERT_EQ(stats_one.exit_code, 0) << stats_one.err;

  // A scrape by a real HTTP client.
  CommandResult scrape = run_command(
      {"/usr/bin/curl", "-sS", "--max-time", "30", "http://" + reactord_->metrics + "/metrics"}, 60s);
  ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
  EXPECT_NE(scrape.out.find("\nreactord_connections_active 19000\n"), std::string::npos)
      << scrape.out.substr(0, 2000);
  EXPECT_NE(scrape.out.find("reactord_reactor_running{loop=\"1\"} 1"), std::string::npos);
}

// ListConnections directly, every page size from 1 to 1000, over the 1000 clients of one
// source address: each page full but the last, `end` only on the last, ids ascending, and
// together exactly the clients the holder has. ~7,500 calls.
TEST_F(ScaleSuite, ListConnectionsEveryPageSizeFrom1To1000) {
  const std::set<std::string> expected = peers_of("thousand");
  ASSERT_EQ(expected.size(), 1000u);
  auto stub = inspect();
  int calls = 0;
  for (std::uint32_t page = 1; page <= 1000; ++page) {
    v1::ListConnectionsRequest request;
    request.mutable_filter()->set_peer(source_of("thousand"));
    request.set_max_results(page);
    std::set<std::string> seen;
    std::uint64_t last = 0;
    for (std::uint32_t call = 0;; ++call) {
      ASSERT_LE(call, 1000u) << "page " << page << " never ends";
      v1::ListConnectionsResponse out;
      auto status = stub->ListConnections(ctx().get(), request, &out);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ++calls;
      std::size_t left = 1000 - seen.size();
      ASSERT_EQ(static_cast<std::size_t>(out.connections_size()), std::min<std::size_t>(page, left))
          << "page size " << page << ", call " << call;
      for (const auto& c : out.connections()) {
        ASSERT_GT(c.id(), last) << "page size " << page;
        last = c.id();
        ASSERT_TRUE(seen.insert(c.peer_address()).second) << c.peer_address();
      }
      ASSERT_EQ(out.end(), seen.size() == 1000) << "page size " << page << ", call " << call;
      if (out.end()) break;
      request.set_start_id(last + 1);
    }
    ASSERT_EQ(seen, expected) << "page size " << page;
  }
  std::printf("ListConnections: %d calls, page sizes 1..1000 over 1000 matches of 19000\n", calls);
}

// reactorctl conns, as typed, over all 19,000: a representative sweep of --page-size, each a
// complete, ordered listing; the small sizes over the smaller groups.
TEST_F(ScaleSuite, ReactorctlConnsPageSweep) {
  const std::set<std::string> all = peers_of_all();
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kTotal));
  for (const char* page : {"", "37", "99", "100", "101", "250", "500", "999", "1000", "5000"}) {
    std::vector<std::string> args;
    if (*page) args = {"--page-size", page};
    auto list = conns(args);
    EXPECT_EQ(list.connections_size(), kTotal) << "--page-size " << page;
    EXPECT_TRUE(list.end());
    EXPECT_EQ(listed_peers(list), all) << "--page-size " << page;
  }
  const std::set<std::string> page1 = peers_of("page1");
  for (const char* page : {"1", "2", "3", "7", "10", "50", "100", "101"}) {
    auto list = conns({"--peer", source_of("page1"), "--page-size", page});
    EXPECT_EQ(listed_peers(list), page1) << "--page-size " << page;
  }
  // The table: a header and one line per connection.
  CommandResult table = ctl({"conns", "--page-size", "1000"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), kTotal + 2);
  EXPECT_NE(table.out.find("\n19000 connection(s)\n"), std::string::npos);
  EXPECT_NE(table.out.find("PEER"), std::string::npos);
}

// Filters that match nothing, one, exactly a page, a page + 1, a full maximum page, all, and
// their negations; --loop partitions; --max and --start cut the listing where asked.
TEST_F(ScaleSuite, ReactorctlConnsFilters) {
  EXPECT_EQ(conns({"--peer", "10.0.0.0/8"}).connections_size(), 0);
  for (const char* group : {"one", "page", "page1", "thousand", "doomed"}) {
    auto list = conns({"--peer", source_of(group)});
    EXPECT_EQ(listed_peers(list), peers_of(group)) << group;
    EXPECT_TRUE(list.end());
  }
  const std::set<std::string> all = peers_of_all();
  EXPECT_EQ(listed_peers(conns({"--peer", "127.0.0.0/8"})), all);
  auto not_bulk = conns({"--not", "--peer", source_of("bulk")});
  EXPECT_EQ(not_bulk.connections_size(), kTotal - 14766);
  EXPECT_EQ(conns({"--not", "--peer", "127.0.0.0/8"}).connections_size(), 0);

  auto loop0 = listed_peers(conns({"--loop", "0"}));
  auto loop1 = listed_peers(conns({"--loop", "1"}));
  EXPECT_GT(loop0.size(), 0u);
  EXPECT_GT(loop1.size(), 0u);
  EXPECT_EQ(loop0.size() + loop1.size(), static_cast<std::size_t>(kTotal))
      << "loop 0: " << loop0.size() << ", loop 1: " << loop1.size();
  std::set<std::string> both = loop0;
  both.insert(loop1.begin(), loop1.end());
  EXPECT_EQ(both, all);

  auto first250 = conns({"--max", "250"});
  ASSERT_EQ(first250.connections_size(), 250);
  listed_peers(first250);
  // --start: from the 250th id on, the rest exactly.
  auto rest = conns({"--start", std::to_string(first250.connections(249).id() + 1)});
  EXPECT_EQ(rest.connections_size(), kTotal - 250);
  std::set<std::string> joined = listed_peers(first250);
  joined.merge(listed_peers(rest));
  EXPECT_EQ(joined, all);
}

// conn ID for the first, a middle and the last connection; an id past the last is NOT_FOUND.
TEST_F(ScaleSuite, ReactorctlConn) {
  auto list = conns({"--page-size", "1000"});
  ASSERT_EQ(list.connections_size(), kTotal);
  for (int at : {0, kTotal / 2, kTotal - 1}) {
    const auto& want = list.connections(at);
    CommandResult r = ctl({"--json", "conn", std::to_string(want.id())});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto c = parse_json<v1::Connection>(r.out);
    EXPECT_EQ(c.id(), want.id());
    EXPECT_EQ(c.peer_address(), want.peer_address());
    EXPECT_EQ(c.loop(), want.loop());
    EXPECT_GE(c.events_size(), 1);
    EXPECT_TRUE(c.tcp_info().valid());
    CommandResult table = ctl({"conn", std::to_string(want.id())});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find(want.peer_address()), std::string::npos) << table.out;
  }
  CommandResult missing = ctl({"conn", std::to_string(list.connections(kTotal - 1).id() + 100000)});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
  CommandResult negative = ctl({"conn", "-5"});  // a usage error, not id 2^64 - 5
  EXPECT_EQ(negative.exit_code, 2) << negative.out << negative.err;
}

// events: ~19,000 connections' events in one answer; each connection owns a pending read.
TEST_F(ScaleSuite, ReactorctlEventsOverEveryConnection) {
  auto list = conns({"--page-size", "1000"});
  std::set<std::uint64_t> ids;
  for (const auto& c : list.connections()) ids.insert(c.id());
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kTotal));

  CommandResult r = ctl({"--json", "events"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto events = parse_json<v1::ListEventsResponse>(r.out);
  EXPECT_GE(events.events_size(), kTotal);
  std::set<std::uint64_t> owners_reading;
  std::optional<std::pair<std::uint32_t, std::uint64_t>> last;
  for (const auto& e : events.events()) {
    std::pair<std::uint32_t, std::uint64_t> key{e.loop(), e.id()};
    if (last) {
      EXPECT_GT(key, *last) << "events out of (loop, id) order";
    }
    last = key;
    if (e.owner() == 0) continue;
    EXPECT_TRUE(ids.count(e.owner())) << "an event of no open connection: " << e.owner();
    // Pending, or active for a pumping client whose line was arriving at that moment.
    if (e.kind() == v1::EVENT_KIND_IO && e.state() != v1::EVENT_STATE_INITIALIZED &&
        e.requested().find("READ") != std::string::npos) {
      owners_reading.insert(e.owner());
    }
  }
  std::vector<std::uint64_t> not_reading;
  std::set_difference(ids.begin(), ids.end(), owners_reading.begin(), owners_reading.end(),
                      std::back_inserter(not_reading));
  EXPECT_TRUE(not_reading.empty()) << not_reading.size() << " connections without a read event,"
                                   << " the first: " << not_reading.front();
  EXPECT_EQ(owners_reading.size(), ids.size());

  CommandResult pending = ctl({"--json", "events", "--state", "pending", "--loop", "1"});
  ASSERT_EQ(pending.exit_code, 0) << pending.err;
  auto loop1 = parse_json<v1::ListEventsResponse>(pending.out);
  EXPECT_GT(loop1.events_size(), 0);
  for (const auto& e : loop1.events()) {
    EXPECT_EQ(e.loop(), 1u);
    EXPECT_EQ(e.state(), v1::EVENT_STATE_PENDING);
  }
  std::uint64_t one = *ids.rbegin();
  auto owned =
      parse_json<v1::ListEventsResponse>(ctl({"--json", "events", "--owner", std::to_string(one)}).out);
  EXPECT_GE(owned.events_size(), 1);
  for (const auto& e : owned.events()) EXPECT_EQ(e.owner(), one);
  CommandResult table = ctl({"events"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_GT(std::count(table.out.begin(), table.out.end(), '\n'), kTotal);
}

// watch: the 19,000 existing connections, "synced", then clients opening and closing (a
// graceful close may first show as a state change to closing).
TEST_F(ScaleSuite, ReactorctlWatchExistingThenChanges) {
  LineProcess watch({REACTORCTL_BIN, "--target", reactord_->control, "--json", "watch"});
  std::set<std::uint64_t> existing;
  std::uint64_t dropped = 0;
  bool synced = false;
  auto end = std::chrono::steady_clock::now() + 120s;
  while (!synced && std::chrono::steady_clock::now() < end) {
    auto line = watch.read_line(60s);
    ASSERT_TRUE(line) << "watch ended before synced; " << existing.size() << " existing";
    auto event = parse_json<v1::ConnectionEvent>(*line);
    dropped += event.dropped();
    if (event.kind() == v1::ConnectionEvent::KIND_SYNCED) {
      synced = true;
    } else {
      EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_EXISTING) << *line;
      EXPECT_TRUE(existing.insert(event.connection().id()).second);
    }
  }
  ASSERT_TRUE(synced);
  EXPECT_EQ(dropped, 0u) << "the initial listing lost connections";
  EXPECT_EQ(existing.size(), static_cast<std::size_t>(kTotal));

  ASSERT_EQ(holder_->command(std::string("open churn ") + std::to_string(kChurn) + " " + kChurnSource),
            "ok " + std::to_string(kChurn));
  const std::set<std::string> churn = peers_of("churn");
  ASSERT_EQ(holder_->command("close churn " + std::to_string(kChurnClosed)),
            "ok " + std::to_string(kChurnClosed));
  std::set<std::string> opened, closed;
  while (opened.size() < kChurn || closed.size() < kChurnClosed) {
    auto line = watch.read_line(60s);
    ASSERT_TRUE(line) << opened.size() << " opened, " << closed.size() << " closed seen";
    auto event = parse_json<v1::ConnectionEvent>(*line);
    EXPECT_EQ(event.dropped(), 0u);
    const std::string& peer = event.connection().peer_address();
    EXPECT_TRUE(churn.count(peer)) << "an event for a client that did nothing: " << *line;
    if (event.kind() == v1::ConnectionEvent::KIND_OPENED) {
      EXPECT_TRUE(opened.insert(peer).second) << *line;
    } else if (event.kind() == v1::ConnectionEvent::KIND_CLOSED) {
      EXPECT_TRUE(opened.count(peer)) << "closed before opened: " << *line;
      EXPECT_TRUE(closed.insert(peer).second) << *line;
      EXPECT_FALSE(event.reason().empty());
    } else {
      EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_STATE_CHANGED) << *line;
      EXPECT_EQ(event.connection().state(), v1::CONNECTION_STATE_CLOSING) << *line;
    }
  }
  EXPECT_EQ(opened, churn);
  EXPECT_EQ(closed.size(), static_cast<std::size_t>(kChurnClosed));
  open_ = kTotal + kChurn - kChurnClosed;
  EXPECT_TRUE(server_counts(open_));
}

// close by filter: --dry-run first (nothing closes), then 3,000 closed with --wait; every one
// of those clients sees its connection end, nobody else's does.
TEST_F(ScaleSuite, ReactorctlCloseThousandsByFilterWithWait) {
  const std::string doomed = source_of("doomed");
  CommandResult dry = ctl({"close", "--filter", "--peer", doomed, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("3000"), std::string::npos) << dry.out.substr(0, 300);
  EXPECT_LT(dry.out.size(), 4096u) << "a dry run over thousands prints a count and a few ids";
  CommandResult dry_json = ctl({"--json", "close", "--filter", "--peer", doomed, "--dry-run"});
  ASSERT_EQ(dry_json.exit_code, 0) << dry_json.err;
  EXPECT_EQ(parse_json<v1::CloseConnectionsResponse>(dry_json.out).matched(), 3000u);
  EXPECT_EQ(conns({"--peer", doomed}).connections_size(), 3000) << "a dry run closed something";

  CommandResult closed = ctl({"--json", "close", "--filter", "--peer", doomed, "--wait"});
  ASSERT_EQ(closed.exit_code, 0) << closed.err;
  auto result = parse_json<v1::CloseConnectionsResponse>(closed.out);
  EXPECT_EQ(result.matched(), 3000u);
  EXPECT_EQ(result.closed(), 3000u);
  EXPECT_EQ(result.still_closing(), 0u);
  // --wait means gone: no listing shows them any more.
  EXPECT_EQ(conns({"--peer", doomed}).connections_size(), 0);
  EXPECT_EQ(holder_->command("wait-closed doomed 60000"), "ok closed=3000 open=0");
  open_ -= 3000;
  EXPECT_TRUE(server_counts(open_));
  for (const char* group : {"one", "page", "page1", "thousand", "bulk"}) {
    std::string stats = holder_->command(std::string("stats ") + group);
    EXPECT_EQ(reply_field(stats, "peer_closed"), 0u) << group << ": " << stats;
    EXPECT_EQ(reply_field(stats, "errors"), 0u) << group << ": " << stats;
  }
  // An echo from each of 1,000 untouched clients.
  std::string echo = holder_->command("echo thousand");
  EXPECT_EQ(echo.rfind("ok 1000 ", 0), 0u) << echo;
}

// A client the test opens itself: true if it got the greeting within `limit`.
bool greeted(std::uint16_t port, std::chrono::milliseconds limit) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    auto end = std::chrono::steady_clock::now() + limit;
    char buf[64];
    while (got.size() < 14 && std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return got == "Hello, World!\n";
}

// drain: health NOT_SERVING (exit 3), state draining, no new client served, the 16,000
// clients still echo; resume: serving again, new clients greeted.
TEST_F(ScaleSuite, ReactorctlDrainThenResume) {
  CommandResult drain = ctl({"drain", "--deadline", "10m"});
  ASSERT_EQ(drain.exit_code, 0) << drain.err;
  EXPECT_NE(drain.out.find("draining"), std::string::npos) << drain.out;
  CommandResult health = ctl({"health"});
  EXPECT_EQ(health.exit_code, 3) << health.out << health.err;
  EXPECT_NE(health.out.find("NOT_SERVING"), std::string::npos) << health.out;
  auto info = parse_json<v1::ServerInfo>(ctl({"--json", "info"}).out);
  EXPECT_EQ(info.state(), v1::SERVER_STATE_DRAINING);
  EXPECT_FALSE(info.accepting());
  EXPECT_EQ(info.connections(), open_);
  EXPECT_FALSE(greeted(reactord_->data_port, 1s)) << "a new client was served while draining";
  // Still serving those already connected, and still listing them all.
  std::string echo = holder_->command("echo page1");
  EXPECT_EQ(echo.rfind("ok 101 ", 0), 0u) << echo;
  auto listed = conns({"--page-size", "1000"});
  EXPECT_EQ(static_cast<std::uint64_t>(listed.connections_size()), open_);
  for (const auto& c : listed.connections()) {
    EXPECT_EQ(c.state(), v1::CONNECTION_STATE_DRAINING) << c.id();
  }
  EXPECT_EQ(conns({"--state", "draining"}).connections_size(), listed.connections_size());

  CommandResult resume = ctl({"resume"});
  ASSERT_EQ(resume.exit_code, 0) << resume.err;
  EXPECT_NE(resume.out.find("serving"), std::string::npos) << resume.out;
  EXPECT_EQ(ctl({"health"}).exit_code, 0);
  EXPECT_TRUE(greeted(reactord_->data_port, 10s));
  ASSERT_EQ(holder_->command("open late 10 127.0.0.9"), "ok 10");
  open_ += 10;
  EXPECT_TRUE(server_counts(open_));
  EXPECT_EQ(conns({"--state", "draining"}).connections_size(), 0);
}

// exit: every loop ends, reactord closes the 16,000 connections it still has and exits 0.
TEST_F(ScaleSuite, ReactorctlExitEndsTheProcess) {
  ASSERT_EQ(holder_->command("pump pump off"), "ok");  // no line in flight when closed
  std::string stats = holder_->command("stats pump");
  EXPECT_EQ(reply_field(stats, "errors"), 0u) << stats;
  CommandResult exit = ctl({"exit", "--delay", "500ms"});
  ASSERT_EQ(exit.exit_code, 0) << exit.err;
  EXPECT_NE(exit.out.find("0 1"), std::string::npos) << exit.out;
  exited_ = true;
  EXPECT_EQ(reactord_->wait_exit(90s), 0) << reactord_->log();
  for (const char* group : {"one", "page", "page1", "thousand", "pump", "bulk", "churn", "late"}) {
    std::string closed = holder_->command(std::string("wait-closed ") + group + " 30000");
    EXPECT_NE(closed.find(" open=0"), std::string::npos) << group << ": " << closed;
  }
  EXPECT_NE(ctl({"health"}).exit_code, 0);
}

}  // namespace
}  // namespace reactord::scale
