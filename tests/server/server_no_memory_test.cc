// Out of memory costs a connection, not the process (issue 13, item 9). An injected buffer
// allocation failure (reactor::fault, the test seam) closes the client whose read needed it —
// counted as closed{reason="no_memory"} — while the others keep echoing; and a loop that dies
// anyway stops the server with a non-zero exit code (it exited 0, so no supervisor restarted it).
#include <gtest/gtest.h>

#include <stdexcept>

#include "reactor/buffer_fault.h"
#include "server/cross_loop_state.h"
#include "server_fixture.h"

namespace reactord::test_support {
namespace {

std::uint64_t closed(Server& s, CloseReason reason) {
  return s.loop(0).counters().closed[static_cast<std::size_t>(reason)].get();
}

TEST(ServerNoMemory, FailedBufferAllocationClosesThatClientOnly) {
  RunningServer s(test_config());
  reactor::UniqueFd victim = s.connect_greeted();
  reactor::UniqueFd other = s.connect_greeted();
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == 2; }));
  reactor::fault::fail_buffer_allocations(1);  // the victim's next read
  ASSERT_TRUE(write_all(victim.get(), "lost"));
  EXPECT_TRUE(wait_closed(victim.get(), 5000ms));
  EXPECT_TRUE(eventually([&] { return closed(s.server, CloseReason::kNoMemory) == 1; }));
  EXPECT_EQ(reactor::fault::buffer_allocation_failures_left(), 0u);
  // The process, the loop and the other client are fine; new clients too.
  ASSERT_TRUE(write_all(other.get(), "fine"));
  EXPECT_EQ(read_exactly(other.get(), 4), "fine");
  reactor::UniqueFd fresh = s.connect_greeted();
  ASSERT_TRUE(write_all(fresh.get(), "new"));
  EXPECT_EQ(read_exactly(fresh.get(), 3), "new");
  EXPECT_EQ(s.server.state(), ServerState::kServing);
}

TEST(ServerNoMemory, ALoopThatDiesStopsTheServerWithANonZeroExitCode) {
  Config config = test_config();
  config.loops = 2;
  Server server(config);
  server.start();
  server.loop(1).post([] { throw std::runtime_error("injected loop failure"); });
  EXPECT_EQ(server.wait(), kExitLoopFailed);
  EXPECT_NE(kExitLoopFailed, 0);
}

}  // namespace
}  // namespace reactord::test_support
