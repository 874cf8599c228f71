// `reactorctl conns` over more than one page on more than one loop, typed as a person types
// it: every id exactly once, in ascending order, whatever the page size, and the command ends.
#include <set>

#include "reactord_process.h"

namespace reactord::testing {
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
  EXPECT_EQ(r.out, "would close 250 connection(s); first 20 ids:" + first20 +
                       " ... (230 more; --json lists all)\n");
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

}  // namespace
}  // namespace reactord::testing
