// LoopWorker::when_closed over real sockets: a waiter is called back once every connection it
// names is gone from the loop (CloseConnections{wait} rests on it), not before, and at once
// when none of them is open.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "server/connection_registry.h"
#include "server_fixture.h"

namespace reactord::test_support {
namespace {

TEST(ServerCloseWait, WhenClosedCallsBackOnceEveryNamedConnectionIsGone) {
  RunningServer s(test_config());
  reactor::UniqueFd first = s.connect_greeted();
  reactor::UniqueFd second = s.connect_greeted();
  auto records = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  ASSERT_EQ(records.size(), 2u);
  const std::uint64_t a = records[0].id;
  const std::uint64_t b = records[1].id;
  auto fired = std::make_shared<std::atomic<int>>(0);
  // 999999 is no connection: it counts as gone.
  on_loop(s.server, 0, [a, b, fired](LoopWorker& w) {
    w.when_closed({a, b, 999999}, [fired] { ++*fired; });
  });
  EXPECT_EQ(fired->load(), 0);

  EXPECT_TRUE(
      on_loop(s.server, 0, [a](LoopWorker& w) { return w.close_connection(a, CloseReason::kAdmin); }));
  EXPECT_TRUE(wait_closed(first.get()));
  first.reset();  // answer the server's FIN: the graceful close completes
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == 1; }));
  on_loop(s.server, 0, [](LoopWorker&) {});  // whatever the loop had to run, it ran
  EXPECT_EQ(fired->load(), 0) << "called back while connection " << b << " is open";

  EXPECT_TRUE(
      on_loop(s.server, 0, [b](LoopWorker& w) { return w.close_connection(b, CloseReason::kAdmin); }));
  EXPECT_TRUE(wait_closed(second.get()));
  second.reset();
  ASSERT_TRUE(eventually([&] { return fired->load() == 1; }));
  EXPECT_EQ(s.server.open_connections(), 0u);
  on_loop(s.server, 0, [](LoopWorker&) {});
  EXPECT_EQ(fired->load(), 1) << "called back more than once";
}

TEST(ServerCloseWait, WhenClosedCallsBackAtOnceWhenNoneIsOpen) {
  RunningServer s(test_config());
  reactor::UniqueFd client = s.connect_greeted();
  const int calls = on_loop(s.server, 0, [](LoopWorker& w) {
    int n = 0;
    w.when_closed({}, [&n] { ++n; });
    w.when_closed({424242}, [&n] { ++n; });
    return n;
  });
  EXPECT_EQ(calls, 2);
  ASSERT_TRUE(write_all(client.get(), "ok"));
  EXPECT_EQ(read_exactly(client.get(), 2), "ok");
}

}  // namespace
}  // namespace reactord::test_support
