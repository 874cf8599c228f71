// Shutdown honours its deadline (the real reactord binary): after SIGTERM the process exits
// at --drain-timeout whatever is running — a client that never reads with megabytes owed to
// it, a WatchConnections stream nobody reads, an idle connection to the metrics port. The
// deadline is the feature under test, so this test measures it (with the process's own
// start-up excluded: the clock starts at the signal): not before the 2 s deadline (the client
// that never reads keeps the drain going until then), and well before what waiting for any of
// them would take (the 20 s bound). The upper bound leaves 4 s for stopping threads on a loaded
// machine running three tests at a time under a sanitizer (+1 s failed once at 3,031 ms).
#include <gtest/gtest.h>

#include <regex>

#include "control_test_util.h"
#include "daemon_process.h"
#include "support/tcp_client.h"

namespace reactord::test_support {
namespace {

// Sends until the socket buffers on both sides are full (the server stopped reading: its
// output to us is at --max-output-buffer). Bounded.
std::size_t stuff(int fd) {
  std::string chunk(64 * 1024, 'x');
  std::size_t sent = 0;
  for (int idle = 0; idle < 20 && sent < (64u << 20);) {
    if (!test_support::wait_for(fd, POLLOUT, 100ms)) {
      ++idle;
      continue;
    }
    const ssize_t w = ::send(fd, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0)
      sent += static_cast<std::size_t>(w);
    else if (errno != EAGAIN)
      break;
  }
  return sent;
}

TEST(ShutdownDeadline, SigtermExitsAtTheDrainTimeoutWhateverIsStillOpen) {
  Daemon d({"--drain-timeout", "2s", "--loops", "2"});
  ASSERT_TRUE(d.ready()) << d.process.output();
  auto metrics = d.process.wait_for_output(R"(metrics listening on http://127\.0\.0\.1:(\d+))", 1000ms);
  ASSERT_TRUE(metrics) << d.process.output();

  // 1. A client that never reads, owed megabytes.
  reactor::UniqueFd greedy = test_support::connect_to(d.data_address());
  ASSERT_TRUE(greedy.valid());
  ASSERT_EQ(test_support::read_exactly(greedy.get(), 14), "Hello, World!\n");
  EXPECT_GT(stuff(greedy.get()), 1u << 20);
  // 2. A watch stream nobody reads.
  grpc::ClientContext watch_ctx;
  v1::WatchConnectionsRequest watch_request;
  auto watch = d.inspect()->WatchConnections(&watch_ctx, watch_request);
  // 3. An idle connection to the metrics port.
  reactor::UniqueFd idle_scraper = test_support::connect_to(
      reactor::SocketAddress::ipv4_loopback(static_cast<std::uint16_t>(std::stoi(*metrics))));
  ASSERT_TRUE(idle_scraper.valid());
  // 4. A client that is just connected.
  reactor::UniqueFd quiet = test_support::connect_to(d.data_address());
  ASSERT_EQ(test_support::read_exactly(quiet.get(), 14), "Hello, World!\n");

  const auto start = std::chrono::steady_clock::now();
  d.process.signal(SIGTERM);
  auto code = d.process.wait_exit(20000ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(code.has_value()) << d.process.output();
  EXPECT_EQ(*code, 0) << d.process.output();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  EXPECT_GE(elapsed, 1900ms) << ms << " ms after SIGTERM: exited before the drain deadline\n"
                             << d.process.output();
  EXPECT_LT(elapsed, 6000ms) << ms << " ms after SIGTERM\n" << d.process.output();
  watch_ctx.TryCancel();
}

}  // namespace
}  // namespace reactord::test_support
