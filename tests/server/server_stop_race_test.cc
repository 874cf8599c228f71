// Server::stop() and drain() are "any thread": a SIGTERM or an operator may ask while the
// server is already stopping because every loop ended on its own (ExitLoop / BreakLoop on
// each). Found by the rpc fuzz target (tests/fuzz/regressions/rpc/): stop() iterated the
// loops while wait() destroyed them (UBSan: member call on null LoopWorker in stop_now). The
// loops now live as long as the Server. Under TSan/ASan a regression shows as a report.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server_fixture.h"

namespace reactord::test_support {
namespace {

TEST(ServerStopRace, StopAndDrainFromOtherThreadsWhileEveryLoopEndsOnItsOwn) {
  for (int round = 0; round < 20; ++round) {
    Config config = test_config();
    config.loops = 2;
    Server server(config);
    server.start();
    std::atomic<bool> done{false};
    std::thread waiter([&] {
      server.wait();
      done.store(true);
    });
    // Other threads keep asking while the server stops by itself and after it stopped.
    std::thread stopper([&] {
      while (!done.load()) server.stop();
      server.stop();
    });
    std::thread drainer([&] {
      while (!done.load()) server.drain();
      server.drain();
    });
    for (std::size_t i = 0; i < server.loop_count(); ++i) server.exit_loop(i);
    waiter.join();
    stopper.join();
    drainer.join();
    EXPECT_EQ(server.state(), ServerState::kStopped);
    // The loops are still there (ended) until the Server goes: asking them is harmless.
    ASSERT_EQ(server.loop_count(), 2u);
    EXPECT_TRUE(server.loop(0).ended());
    server.exit_loop(1);
    server.break_loop(0);
  }
}

}  // namespace
}  // namespace reactord::test_support
