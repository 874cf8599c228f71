// A drain under a connect flood (HAProxy's soft-stop): the clients already waiting in the
// accept queue when the drain starts are served, then the listening socket closes. Clients
// that keep arriving while the loop accepts that backlog are not served: the kernel resets
// them when the socket closes, and the next ones are refused. Before, the drain accepted until
// the queue was empty, so a client that connects as fast as the loop accepts kept the listener
// open (and the loop busy in one callback, every other client of the loop waiting) for as long
// as it went on.
//
// Deterministic: the flood is made by the loop's own accept4 (the sys_calls seam), which
// connects one more client before each accept, so the queue is never empty while the drain
// accepts.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <vector>

#include "reactor/sys_calls.h"
#include "server_fixture.h"

namespace reactord::test_support {
namespace {

// Before each accept4 on the listening socket (while armed and within budget), a new client
// connects to it: on loopback the kernel completes the handshake at once, so the accept queue
// always holds one more. Loop thread only (installed there); the clients live here.
class FloodingAccept : public reactor::OsSysCalls {
 public:
  int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) override {
    if (armed.load() && clients.size() < kBudget) {
      reactor::UniqueFd client = connect_to(target);
      if (client.valid()) clients.push_back(std::move(client));
    }
    return reactor::OsSysCalls::accept4(fd, addr, len, flags);
  }

  static constexpr std::size_t kBudget = 1000;
  std::atomic<bool> armed{false};
  reactor::SocketAddress target;
  std::vector<reactor::UniqueFd> clients;
};

TEST(ServerDrainFlood, TheDrainServesTheBacklogItFoundNotTheFloodBehindIt) {
  Config config = test_config();
  config.loops = 1;
  RunningServer rs(config);
  FloodingAccept flood;
  flood.target = rs.server.listen_address();
  on_loop(rs.server, 0, [&flood](LoopWorker&) { reactor::install_sys_calls(&flood); });

  // Hold the loop so that the backlog builds up and the drain finds it there.
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  rs.server.loop(0).post([&entered, released] {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();
  constexpr int kWaiting = 4;
  std::vector<reactor::UniqueFd> waiting;
  for (int i = 0; i < kWaiting; ++i) {
    waiting.push_back(rs.connect());
    ASSERT_TRUE(waiting.back().valid());
  }
  rs.server.drain(std::chrono::seconds(30), /*exit_when_done=*/false);
  flood.armed.store(true);
  release.set_value();

  // This task runs after the drain's (one queue, in order): the drain has taken its backlog
  // and closed the listening socket. Probing with a connect before it would be one more client
  // in the backlog the drain finds (it was, once, under ASan: 5 served, not 4).
  const std::size_t made = on_loop(rs.server, 0, [&flood](LoopWorker&) {
    flood.armed.store(false);
    reactor::install_sys_calls(nullptr);
    return flood.clients.size();
  });
  // The listening socket is closed: the next client is refused by the kernel.
  EXPECT_FALSE(connect_to(flood.target).valid());

  // Those who were waiting are served.
  for (auto& fd : waiting) EXPECT_EQ(read_exactly(fd.get(), 14), "Hello, World!\n");
  EXPECT_EQ(rs.server.open_connections(), static_cast<std::size_t>(kWaiting));
  // The flood behind them was cut off after the backlog (one new client per accept), and none
  // of it was served: each was reset when the socket closed.
  EXPECT_LE(made, static_cast<std::size_t>(kWaiting) + 1) << "the drain went on accepting the flood";
  int greeted = 0;
  for (auto& fd : flood.clients) {
    if (read_exactly(fd.get(), 14, std::chrono::milliseconds(200)) == "Hello, World!\n") ++greeted;
  }
  EXPECT_EQ(greeted, 0);
}

}  // namespace
}  // namespace reactord::test_support
