// merge_page(): ListConnections' page from the per-loop lists (each loop stops at page + 1
// matches). Checked against the plain answer: every match of every loop, sorted, cut at page.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "server/control/connection_page.h"

namespace reactord::control {
namespace {

std::vector<ConnectionRecord> records(std::initializer_list<std::uint64_t> ids) {
  std::vector<ConnectionRecord> out;
  for (auto id : ids) {
    ConnectionRecord v;
    v.id = id;
    out.push_back(v);
  }
  return out;
}

std::vector<std::uint64_t> ids_of(const ConnectionPage& page) {
  std::vector<std::uint64_t> out;
  for (const auto& v : page.connections) out.push_back(v.id);
  return out;
}

TEST(MergePage, InterleavesTheLoopsInIdOrderAndCutsAtThePage) {
  auto three = [] { return std::vector{records({1, 4, 7, 8}), records({2, 3, 9}), records({})}; };
  auto first = merge_page(three(), 4);
  EXPECT_EQ(ids_of(first), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(first.end);
  auto all_but_one = merge_page(three(), 6);
  EXPECT_EQ(ids_of(all_but_one), (std::vector<std::uint64_t>{1, 2, 3, 4, 7, 8}));
  EXPECT_FALSE(all_but_one.end);
  auto exact = merge_page(three(), 7);  // exactly the matches left: that is the end
  EXPECT_EQ(ids_of(exact), (std::vector<std::uint64_t>{1, 2, 3, 4, 7, 8, 9}));
  EXPECT_TRUE(exact.end);
  auto roomy = merge_page(three(), 100);
  EXPECT_EQ(roomy.connections.size(), 7u);
  EXPECT_TRUE(roomy.end);
}

TEST(MergePage, NoLoopsOrEmptyLoopsGiveAnEmptyLastPage) {
  auto none = merge_page({}, 100);
  EXPECT_TRUE(none.connections.empty());
  EXPECT_TRUE(none.end);
  auto empty = merge_page({records({}), records({})}, 1);
  EXPECT_TRUE(empty.connections.empty());
  EXPECT_TRUE(empty.end);
}

TEST(MergePage, PagePlusOnePerLoopGivesTheSameAnswerAsSortingEverything) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    const std::size_t loops = 1 + rng() % 5;
    const std::size_t page = 1 + rng() % 20;
    std::vector<std::vector<std::uint64_t>> owned(loops);
    std::vector<std::uint64_t> everything;
    const std::size_t count = rng() % 80;
    for (std::uint64_t id = 1 + rng() % 3; everything.size() < count; id += 1 + rng() % 4) {
      owned[rng() % loops].push_back(id);  // ids grow, so each loop's list is ascending
      everything.push_back(id);
    }
    const std::uint64_t start = rng() % 100;
    std::vector<std::uint64_t> expected;
    for (auto id : everything) {
      if (id >= start && expected.size() < page) expected.push_back(id);
    }
    const bool expected_end = std::count_if(everything.begin(), everything.end(),
                                            [&](auto id) { return id >= start; }) <= static_cast<long>(page);
    std::vector<std::vector<ConnectionRecord>> per_loop(loops);
    for (std::size_t k = 0; k < loops; ++k) {
      for (auto id : owned[k]) {
        if (id < start || per_loop[k].size() == page + 1) continue;  // what page_on_loop does
        ConnectionRecord v;
        v.id = id;
        v.loop = static_cast<unsigned>(k);
        per_loop[k].push_back(v);
      }
    }
    auto got = merge_page(std::move(per_loop), page);
    EXPECT_EQ(ids_of(got), expected) << "round " << round;
    EXPECT_EQ(got.end, expected_end) << "round " << round;
    for (const auto& v : got.connections) {  // each record keeps its own loop's data
      EXPECT_NE(std::find(owned[v.loop].begin(), owned[v.loop].end(), v.id), owned[v.loop].end());
    }
  }
}

}  // namespace
}  // namespace reactord::control
