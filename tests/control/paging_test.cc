// ListConnections pages filtered on the loops and merged on the gRPC thread: over several loops
// every matching connection comes exactly once, in ascending id order, page boundaries and
// `end` are exact, and one page over 2000 real connections is what the loops' own registries
// say. The expected answers come from ConnectionRegistry::snapshot() on each loop (not from
// the code under test).
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "control_test_util.h"
#include "server/connection_registry.h"

namespace reactord::test_support {
namespace {

// Every connection of every loop, by id, read on the loops themselves.
std::map<std::uint64_t, ConnectionRecord> registry_records(Server& server) {
  std::map<std::uint64_t, ConnectionRecord> out;
  for (unsigned i = 0; i < server.loop_count(); ++i) {
    auto promise = std::make_shared<std::promise<std::vector<ConnectionRecord>>>();
    auto future = promise->get_future();
    LoopWorker& worker = server.loop(i);
    worker.post([promise, &worker] { promise->set_value(worker.registry().snapshot()); });
    if (future.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "loop " << i << " did not answer";
      return out;
    }
    for (auto& r : future.get()) out.emplace(r.id, r);
  }
  return out;
}

v1::ListConnectionsResponse list(v1::Inspect::Stub& stub, const v1::ListConnectionsRequest& request) {
  v1::ListConnectionsResponse out;
  auto status = stub.ListConnections(ctx().get(), request, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out;
}

// Pages through `request` with pages of `page`; checks each page's size and `end`; returns the
// ids in the order they came.
std::vector<std::uint64_t> page_through(v1::Inspect::Stub& stub, v1::ListConnectionsRequest request,
                                        std::uint32_t page, std::size_t expected_total) {
  std::vector<std::uint64_t> ids;
  request.set_max_results(page);
  for (std::size_t round = 0; round <= expected_total / page + 1; ++round) {
    auto out = list(stub, request);
    for (const auto& c : out.connections()) ids.push_back(c.id());
    if (out.end()) {
      EXPECT_LE(static_cast<std::uint32_t>(out.connections_size()), page);
      return ids;
    }
    EXPECT_EQ(static_cast<std::uint32_t>(out.connections_size()), page);  // only the last is short
    if (out.connections_size() == 0) break;
    request.set_start_id(ids.back() + 1);
  }
  ADD_FAILURE() << "paging did not end after " << ids.size() << " ids";
  return ids;
}

// Clients on a 3-loop server; every third one sends 10 bytes (and reads them back).
struct ThreeLoops {
  InProcessReactord r{3};
  std::vector<std::unique_ptr<TcpClient>> clients;
  std::vector<std::uint64_t> talkers, quiet;  // ids, ascending
  std::set<unsigned> loops_used;

  explicit ThreeLoops(int count) {
    for (int i = 0; i < count; ++i) {
      auto c = std::make_unique<TcpClient>(r.data_port());
      EXPECT_EQ(c->read_exactly(kGreeting.size()), kGreeting);
      if (i % 3 == 0) {
        c->send_all("0123456789");
        EXPECT_EQ(c->read_exactly(10), "0123456789");
      }
      clients.push_back(std::move(c));
    }
    std::map<std::uint16_t, bool> talks;  // client port -> sent
    for (int i = 0; i < count; ++i) talks[clients[i]->local_port()] = i % 3 == 0;
    for (const auto& [id, rec] : registry_records(r.server())) {
      (talks.at(rec.peer.port()) ? talkers : quiet).push_back(id);
      loops_used.insert(rec.loop);
    }
  }
};

TEST(Paging, AFilterPagedAcrossLoopsGivesEveryMatchOnceInOrder) {
  ThreeLoops s(60);
  ASSERT_EQ(s.talkers.size() + s.quiet.size(), 60u);
  ASSERT_EQ(s.talkers.size(), 20u);
  ASSERT_GE(s.loops_used.size(), 2u) << "SO_REUSEPORT spread 60 connections over one loop";
  auto stub = s.r.inspect();

  v1::ListConnectionsRequest busy;
  busy.mutable_filter()->set_min_bytes_in(10);
  v1::ListConnectionsRequest idle = busy;
  idle.mutable_filter()->set_negate(true);
  for (std::uint32_t page : {1u, 2u, 3u, 7u, 19u, 20u, 21u, 100u}) {
    EXPECT_EQ(page_through(*stub, busy, page, s.talkers.size()), s.talkers) << "page " << page;
    EXPECT_EQ(page_through(*stub, idle, page, s.quiet.size()), s.quiet) << "page " << page;
  }
  // A filter by loop pages through that loop only.
  for (unsigned loop : s.loops_used) {
    v1::ListConnectionsRequest one;
    one.mutable_filter()->set_loop(loop);
    one.mutable_filter()->set_min_bytes_in(10);
    auto ids = page_through(*stub, one, 4, s.talkers.size());
    auto records = registry_records(s.r.server());
    std::vector<std::uint64_t> expected;
    for (auto id : s.talkers) {
      if (records.at(id).loop == loop) expected.push_back(id);
    }
    EXPECT_EQ(ids, expected) << "loop " << loop;
  }
}

TEST(Paging, PageBoundariesAndEndAreExact) {
  ThreeLoops s(12);
  ASSERT_EQ(s.talkers.size(), 4u);
  auto stub = s.r.inspect();
  v1::ListConnectionsRequest request;
  request.mutable_filter()->set_min_bytes_in(10);

  request.set_max_results(4);  // exactly the matches: one page, and it is the end
  auto exact = list(*stub, request);
  ASSERT_EQ(exact.connections_size(), 4);
  EXPECT_TRUE(exact.end());

  request.set_max_results(3);  // one short: not the end; the next page holds the last one
  auto first = list(*stub, request);
  ASSERT_EQ(first.connections_size(), 3);
  EXPECT_FALSE(first.end());
  request.set_start_id(first.connections(2).id() + 1);
  auto second = list(*stub, request);
  ASSERT_EQ(second.connections_size(), 1);
  EXPECT_EQ(second.connections(0).id(), s.talkers[3]);
  EXPECT_TRUE(second.end());

  request.set_start_id(s.talkers[2]);  // start_id is inclusive
  auto from = list(*stub, request);
  ASSERT_EQ(from.connections_size(), 2);
  EXPECT_EQ(from.connections(0).id(), s.talkers[2]);
  EXPECT_TRUE(from.end());

  request.set_start_id(s.talkers[3] + 1);  // past the last match (quiet ones may follow)
  auto past = list(*stub, request);
  EXPECT_EQ(past.connections_size(), 0);
  EXPECT_TRUE(past.end());

  // An id list: only those, in order, paged too.
  v1::ListConnectionsRequest by_id;
  by_id.mutable_filter()->add_ids(s.quiet[5]);
  by_id.mutable_filter()->add_ids(s.talkers[1]);
  by_id.mutable_filter()->add_ids(s.quiet[0]);
  by_id.set_max_results(2);
  auto two = list(*stub, by_id);
  ASSERT_EQ(two.connections_size(), 2);
  EXPECT_FALSE(two.end());
  std::vector<std::uint64_t> wanted{s.quiet[5], s.talkers[1], s.quiet[0]};
  std::sort(wanted.begin(), wanted.end());
  EXPECT_EQ(two.connections(0).id(), wanted[0]);
  EXPECT_EQ(two.connections(1).id(), wanted[1]);
  by_id.set_start_id(wanted[1] + 1);
  auto last = list(*stub, by_id);
  ASSERT_EQ(last.connections_size(), 1);
  EXPECT_EQ(last.connections(0).id(), wanted[2]);
  EXPECT_TRUE(last.end());
}

TEST(Paging, OnePageOverTwoThousandConnectionsMatchesTheRegistries) {
  constexpr int kConnections = 2000;
  InProcessReactord r(2);
  auto clients = connect_clients(r.data_port(), kConnections);
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(kConnections));
  for (int i = 0; i < kConnections; i += 7) {  // every 7th client talks
    ASSERT_EQ(clients[i]->read_exactly(kGreeting.size()), kGreeting);
    clients[i]->send_all("abc");
    ASSERT_EQ(clients[i]->read_exactly(3), "abc");
  }
  ASSERT_TRUE(inspect_counts_connections(r, kConnections));
  auto stub = r.inspect();
  auto records = registry_records(r.server());
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kConnections));
  const std::uint64_t middle = std::next(records.begin(), kConnections / 3)->first;
  const std::string local = "127.0.0.1:" + std::to_string(r.data_port());

  // What a page must hold, from the registries: ids >= middle that pass `keep`, first `page`.
  auto expect_page = [&](std::uint32_t page, bool talkers_only) {
    v1::ListConnectionsRequest request;
    request.set_start_id(middle);
    request.set_max_results(page);
    if (talkers_only) request.mutable_filter()->set_min_bytes_in(3);
    auto out = list(*stub, request);
    std::vector<const ConnectionRecord*> expected;
    std::size_t matching = 0;
    for (auto it = records.lower_bound(middle); it != records.end(); ++it) {
      if (talkers_only && it->second.bytes_in < 3) continue;
      ++matching;
      if (expected.size() < page) expected.push_back(&it->second);
    }
    ASSERT_EQ(static_cast<std::size_t>(out.connections_size()), expected.size()) << page;
    EXPECT_EQ(out.end(), matching <= page) << page;
    for (int i = 0; i < out.connections_size(); ++i) {
      const auto& got = out.connections(i);
      const ConnectionRecord& want = *expected[i];
      ASSERT_EQ(got.id(), want.id) << "page " << page << " position " << i;
      EXPECT_EQ(got.loop(), want.loop);
      EXPECT_EQ(got.peer_address(), want.peer.to_string());
      EXPECT_EQ(got.local_address(), local);  // read only for the page, but read
      EXPECT_EQ(got.bytes_in(), want.bytes_in);
      EXPECT_EQ(got.bytes_out(), want.bytes_out);
    }
  };
  expect_page(100, false);
  expect_page(1000, false);
  expect_page(100, true);
  expect_page(1000, true);  // fewer than 1000 talkers past `middle`: the end

  // CloseConnections selects on the loops too: a dry run names exactly the talkers.
  v1::CloseConnectionsRequest close;
  close.mutable_filter()->set_min_bytes_in(3);
  close.set_dry_run(true);
  v1::CloseConnectionsResponse closed;
  auto status = r.control()->CloseConnections(ctx().get(), close, &closed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::uint64_t> talkers;
  for (const auto& [id, rec] : records) {
    if (rec.bytes_in >= 3) talkers.push_back(id);
  }
  EXPECT_EQ(std::vector<std::uint64_t>(closed.matched_ids().begin(), closed.matched_ids().end()), talkers);
  EXPECT_EQ(closed.matched(), talkers.size());
}

}  // namespace
}  // namespace reactord::test_support
