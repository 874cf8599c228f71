// `reactorctl conns` over more than one page on more than one loop, typed as a person types
// it: every id exactly once, in ascending order, whatever the page size, and the command ends.
#include <signal.h>

#include <cctype>
#include <optional>
#include <set>

#include "reactord_process.h"

namespace reactord::test_support {
namespace {

constexpr int kClients = 250;  // 2.5 default pages (100)

std::vector<std::uint64_t> ids_of(const v1::ListConnectionsResponse& list) {
  std::vector<std::uint64_t> ids;
  for (const auto& c : list.connections()) ids.push_back(c.id());
  return ids;
}

// Ascending and no id twice.
void expect_strictly_ascending(const std::vector<std::uint64_t>& ids, const std::string& what) {
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]) << what << " at row " << i;
  }
}

class ReactorctlConns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    d_ = new Reactord({"--loops", "2"});
    ASSERT_NE(d_->data_port, 0) << d_->process->log();
    clients_ = new std::vector<std::unique_ptr<TcpClient>>(connect_clients(d_->data_port, kClients));
    ASSERT_EQ(clients_->size(), static_cast<std::size_t>(kClients));
    ASSERT_TRUE(d_->wait_connections(kClients)) << d_->process->log();
  }
  static void TearDownTestSuite() {
    delete clients_;
    delete d_;
  }
  static Reactord* d_;
  static std::vector<std::unique_ptr<TcpClient>>* clients_;
};
Reactord* ReactorctlConns::d_ = nullptr;
std::vector<std::unique_ptr<TcpClient>>* ReactorctlConns::clients_ = nullptr;

TEST_F(ReactorctlConns, EveryIdExactlyOnceForEveryPageSize) {
  std::set<std::uint32_t> loops;
  std::vector<std::uint64_t> reference;
  for (std::string page : {"1", "7", "99", "100", "101", "249", "250", "1000"}) {
    auto r = d_->ctl({"--json", "conns", "--page-size", page});
    ASSERT_EQ(r.exit_code, 0) << "page " << page << ": " << r.err;
    auto list = parse_json<v1::ListConnectionsResponse>(r.out);
    auto ids = ids_of(list);
    ASSERT_EQ(ids.size(), static_cast<std::size_t>(kClients)) << "page " << page;
    expect_strictly_ascending(ids, "page " + page);
    EXPECT_TRUE(list.end()) << "page " << page;
    if (reference.empty()) reference = ids;
    EXPECT_EQ(ids, reference) << "page " << page;
    for (const auto& c : list.connections()) loops.insert(c.loop());
  }
  EXPECT_EQ(loops, (std::set<std::uint32_t>{0, 1})) << "the clients should be on both loops";
}

TEST_F(ReactorctlConns, MaxStopsAfterThatManyDistinctIds) {
  auto all = parse_json<v1::ListConnectionsResponse>(d_->ctl({"--json", "conns"}).out);
  ASSERT_EQ(all.connections_size(), kClients);
  for (std::string max : {"250", "150", "100", "1"}) {
    auto r = d_->ctl({"--json", "conns", "--max", max});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto ids = ids_of(parse_json<v1::ListConnectionsResponse>(r.out));
    ASSERT_EQ(ids.size(), std::stoul(max)) << "--max " << max;
    expect_strictly_ascending(ids, "--max " + max);
    EXPECT_TRUE(std::equal(ids.begin(), ids.end(), all.connections().begin(),
                           [](auto id, const auto& c) { return id == c.id(); }))
        << "--max " << max << " should be the first ids";
  }
}

TEST_F(ReactorctlConns, FilterAcrossPagesAndLoops) {
  auto all = parse_json<v1::ListConnectionsResponse>(d_->ctl({"--json", "conns"}).out);
  std::vector<std::uint64_t> on_loop1;
  for (const auto& c : all.connections()) {
    if (c.loop() == 1) on_loop1.push_back(c.id());
  }
  ASSERT_GT(on_loop1.size(), 10u);
  auto r = d_->ctl({"--json", "conns", "--loop", "1", "--page-size", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_of(parse_json<v1::ListConnectionsResponse>(r.out)), on_loop1);
}

TEST_F(ReactorctlConns, TableListsEveryConnectionOnce) {
  auto r = d_->ctl({"conns", "--page-size", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t lines = std::count(r.out.begin(), r.out.end(), '\n');
  EXPECT_EQ(lines, static_cast<std::size_t>(kClients) + 2) << r.out.substr(0, 3000);  // header + count
  EXPECT_NE(r.out.find("\n250 connection(s)\n"), std::string::npos) << r.out.substr(r.out.size() - 200);
}

// A dry run over many matches: the count and the first ids on one short line; --json has all.
TEST_F(ReactorctlConns, DryRunPrintsACountAndTheFirstIds) {
  auto all = ids_of(parse_json<v1::ListConnectionsResponse>(d_->ctl({"--json", "conns"}).out));
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kClients));
  auto r = d_->ctl({"close", "--filter", "--peer", "127.0.0.1", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string first20;
  for (int i = 0; i < 20; ++i) first20 += " " + std::to_string(all[i]);
  EXPECT_EQ(r.out,
            "would close 250 connection(s); first 20 ids:" + first20 + " ... (230 more; --json lists all)\n");
  auto json = d_->ctl({"--json", "close", "--filter", "--peer", "127.0.0.1", "--dry-run"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto result = parse_json<v1::CloseConnectionsResponse>(json.out);
  EXPECT_EQ(result.matched(), static_cast<std::uint32_t>(kClients));
  EXPECT_EQ(std::vector<std::uint64_t>(result.matched_ids().begin(), result.matched_ids().end()), all);
  EXPECT_TRUE(d_->wait_connections(kClients)) << "a dry run closes nothing";
  // Few matches: all of them, as before.
  auto one = d_->ctl({"close", std::to_string(all[0]), "--dry-run"});
  EXPECT_EQ(one.out, "would close 1 connection(s): " + std::to_string(all[0]) + "\n") << one.err;
}

// ListConnections calls the server has answered, from its /metrics (curl, a real scraper).
std::optional<long> list_calls(Reactord& d) {
  auto at = d.process->log().find("metrics listening on http://");
  if (at == std::string::npos) return std::nullopt;
  std::string url = d.process->log().substr(at + 21);
  url = url.substr(0, url.find_first_of(" \n"));
  auto scrape = run_command({"/usr/bin/curl", "-sf", url});
  const std::string series =
      "reactord_control_requests_total{service=\"reactord.v1.Inspect\",method=\"ListConnections\",code="
      "\"OK\"} ";
  if (scrape.exit_code != 0) return std::nullopt;
  auto s = scrape.out.find(series);
  // No series yet: no ListConnections call so far (this test may run alone, in its own process
  // with its own reactord, as CTest runs it).
  if (s == std::string::npos) return 0;
  return std::stol(scrape.out.substr(s + series.size()));
}

// `conns --watch` on a terminal, as a person runs it: the screen is redrawn with one page
// that fits the window and the server's totals; a client that comes and goes shows up and
// disappears; Ctrl-C ends it with exit 0.
TEST_F(ReactorctlConns, WatchRedrawsOnePageOnATerminalAndShowsChanges) {
  PtyProcess watch({REACTORCTL_BIN, "--target", d_->target(), "conns", "--watch", "200ms"},
                   /*rows=*/30, /*cols=*/200);
  auto first = watch.wait_for("server: 250 open", 0, 20s);
  ASSERT_TRUE(first) << watch.output();
  auto footer = watch.wait_for("25 connection(s), more follow", *first, 20s);
  ASSERT_TRUE(footer) << "30 rows: a page of 25 fits\n" << watch.output();
  std::string frame = watch.output().substr(*first, *footer - *first);
  std::size_t rows = 0;
  for (std::size_t p = frame.find('\n'); p != std::string::npos; p = frame.find('\n', p + 1)) {
    auto text = frame.find_first_not_of(' ', p + 1);  // ids are right-aligned
    if (text != std::string::npos && std::isdigit(static_cast<unsigned char>(frame[text]))) ++rows;
  }
  EXPECT_EQ(rows, 25u) << frame;
  EXPECT_NE(watch.output().find("\x1b[H\x1b[2J"), std::string::npos) << "the screen is redrawn";

  {
    TcpClient extra(d_->data_port);
    ASSERT_TRUE(extra.connected());
    EXPECT_TRUE(watch.wait_for("server: 251 open", *footer, 20s)) << watch.output().substr(*footer);
  }
  auto back = watch.output().size();
  EXPECT_TRUE(watch.wait_for("server: 250 open", back, 20s)) << watch.output().substr(back);
  watch.signal(SIGINT);
  EXPECT_EQ(watch.wait_exit(10s), 0) << watch.output().substr(watch.output().size() - 500);
}

// A new connection appears in a filtered watch and goes away when it closes.
TEST_F(ReactorctlConns, WatchFromAnIdShowsAClientComeAndGo) {
  auto all = ids_of(parse_json<v1::ListConnectionsResponse>(d_->ctl({"--json", "conns"}).out));
  ASSERT_FALSE(all.empty());
  PtyProcess watch({REACTORCTL_BIN, "conns", "--watch", "100ms", "--start", std::to_string(all.back() + 1),
                    "--target", d_->target()},
                   30, 200);
  auto empty = watch.wait_for("\n0 connection(s)", 0, 20s);
  ASSERT_TRUE(empty) << watch.output();
  std::size_t seen_at = 0;
  {
    TcpClient extra(d_->data_port);
    ASSERT_TRUE(extra.connected());
    const std::string peer = "127.0.0.1:" + std::to_string(extra.local_port());
    auto seen = watch.wait_for(peer, *empty, 20s);
    ASSERT_TRUE(seen) << peer << " never shown:\n" << watch.output().substr(*empty);
    seen_at = *seen;
    EXPECT_TRUE(watch.wait_for("\n1 connection(s)\n", *empty, 20s));
  }
  EXPECT_TRUE(watch.wait_for("\n0 connection(s)", seen_at, 20s)) << watch.output().substr(seen_at);
  watch.signal(SIGINT);
  EXPECT_EQ(watch.wait_exit(10s), 0);
}

// Bounded work: one ListConnections call per refresh (never every page), and -n ends it.
TEST_F(ReactorctlConns, WatchCallsOncePerRefreshAndStopsAfterN) {
  // The series exists once a first call was answered (each TEST may run in its own process).
  ASSERT_EQ(d_->ctl({"conns", "--max", "1"}).exit_code, 0);
  auto before = list_calls(*d_);
  ASSERT_TRUE(before) << "no ListConnections series in /metrics";
  auto r = d_->ctl({"conns", "--watch", "50ms", "-n", "3", "--page-size", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* refresh : {"refresh 1\n", "refresh 2\n", "refresh 3\n"}) {
    EXPECT_NE(r.out.find(refresh), std::string::npos) << r.out;
  }
  EXPECT_EQ(r.out.find("refresh 4"), std::string::npos) << r.out;
  std::size_t pages = 0;
  for (auto p = r.out.find("7 connection(s), more follow"); p != std::string::npos;
       p = r.out.find("7 connection(s), more follow", p + 1)) {
    ++pages;
  }
  EXPECT_EQ(pages, 3u) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "no escape codes when not on a terminal";
  auto after = list_calls(*d_);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after - *before, 3) << "one page per refresh, with 250 connections open";
  // --json: one document per refresh.
  auto json = d_->ctl({"--json", "conns", "--watch", "50ms", "-n", "2", "--page-size", "5"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto nl = json.out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(parse_json<v1::ListConnectionsResponse>(json.out.substr(0, nl)).connections_size(), 5);
  EXPECT_EQ(parse_json<v1::ListConnectionsResponse>(json.out.substr(nl + 1)).connections_size(), 5);
}

}  // namespace
}  // namespace reactord::test_support
