// Slow readers are not idle (issue 13, items 2 and 12): a client that half-closes and then
// reads its echo slowly gets every byte and a FIN; a client reading a long echo slowly under a
// short --idle-timeout is not closed while it reads. The first client paces its reads on the
// wall clock; the second reads against the loop's manual clock. Nothing is asserted about time.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "server/connection.h"
#include "server_fixture.h"

namespace reactord::test_support {
namespace {

// A client whose receive buffer is small, so that what reactord owes it waits on reactord's
// side (its output and its socket's send queue), not in our kernel buffer.
reactor::UniqueFd connect_small_receiver(const reactor::SocketAddress& address) {
  reactor::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int small = 32 * 1024;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  if (::connect(fd.get(), address.get(), address.length()) != 0) return reactor::UniqueFd();
  return fd;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + i / 7919);
  return s;
}

struct SlowRead {
  std::string data;
  std::string how = "timeout";  // "eof", "timeout" or the errno text
};

// Reads at about `rate` bytes/s until `want` bytes arrived (then returns, leaving the socket
// open) or, with want = 0, until EOF / error. Bounded by `limit`.
SlowRead read_slowly(int fd, std::size_t rate, std::size_t want, std::chrono::seconds limit) {
  SlowRead out;
  constexpr std::size_t kSlice = 32 * 1024;
  const auto pause = std::chrono::microseconds(1'000'000 * kSlice / rate);
  std::vector<char> buf(kSlice);
  const auto deadline = TestClock::now() + limit;
  while (TestClock::now() < deadline && (want == 0 || out.data.size() < want)) {
    if (!wait_for(fd, POLLIN, 1000ms)) continue;
    const std::size_t n = want == 0 ? kSlice : std::min(kSlice, want - out.data.size());
    const ssize_t r = ::recv(fd, buf.data(), n, MSG_DONTWAIT);
    if (r > 0) {
      out.data.append(buf.data(), static_cast<std::size_t>(r));
      std::this_thread::sleep_for(pause * r / static_cast<long>(kSlice));
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    out.how = r == 0 ? "eof" : std::strerror(errno);
    break;
  }
  return out;
}

std::uint64_t closed(Server& s, CloseReason reason) {
  return s.loop(0).counters().closed[static_cast<std::size_t>(reason)].get();
}

// 13.2: sends 3 MiB, half-closes, reads at 512 KiB/s. The server sees the EOF long before the
// echo is out (--max-output-buffer 4 MiB: it reads everything at once): its graceful close
// must keep sending, then FIN. It got ~1 MiB, then a reset, after a fixed 2 s grace.
TEST(ServerSlowReader, HalfClosedClientReadingSlowlyGetsEveryByteThenEof) {
  const std::string payload = pattern(3u << 20);
  Config config = test_config();  // --idle-timeout 60 s
  config.max_output_buffer = 4u << 20;
  RunningServer s(config);
  reactor::UniqueFd fd = connect_small_receiver(s.server.listen_address());
  ASSERT_TRUE(fd.valid());
  // reactord's socket gets a small send buffer too: the echo waits in reactord's output,
  // where the close has to deliver it, not in a kernel buffer that would deliver it anyway.
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == 1; }));
  on_loop(s.server, 0, [](LoopWorker& w) {
    const int small = 64 * 1024;
    for (std::uint64_t id : w.registry().ids()) {
      const int server_fd = w.registry().find(id)->buffer_event().fd();
      ::setsockopt(server_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
  });
  std::atomic<bool> sent{false};
  std::thread writer([&] {
    sent = write_all(fd.get(), payload, 60000ms);
    ::shutdown(fd.get(), SHUT_WR);
  });
  SlowRead got = read_slowly(fd.get(), 512 * 1024, 0, 60s);
  writer.join();
  ASSERT_TRUE(sent);
  EXPECT_EQ(got.how, "eof") << "after " << got.data.size() << " bytes";
  ASSERT_EQ(got.data.size(), 14 + payload.size());
  EXPECT_TRUE(got.data == "Hello, World!\n" + payload) << "echo corrupted";
  EXPECT_TRUE(eventually([&] { return closed(s.server, CloseReason::kPeerEof) == 1; }));
}

// 13.12: with --idle-timeout 1s, a client reading a 6 MiB echo slowly is reading, not idle —
// also while the rest of its echo sits in reactord's socket buffer and reactord itself sends
// nothing for seconds. It was reset after ~3 MiB. The loop runs on a manual clock
// (tests/support/manual_clock.h): after each 32 KiB the client reads, the loop's time moves
// 400 ms, so the client reads at 80 KiB/s of the loop's time over 77 s of it — dozens of idle
// timeouts — and a loaded machine (this test once failed under TSan, pacing on the wall clock)
// can slow the test down but not make the client look idle.
TEST(ServerSlowReader, ClientReadingALongEchoSlowlyIsNotIdle) {
  const std::string payload = pattern(6u << 20);
  test_support::ManualClock clock;  // outlives the server's loop
  Config config = test_config();
  config.idle_timeout = std::chrono::seconds(1);
  RunningServer s(config);
  install_clock(s.server, 1, clock);
  reactor::UniqueFd fd = connect_small_receiver(s.server.listen_address());
  ASSERT_TRUE(fd.valid());
  std::atomic<bool> sent{false};
  std::thread writer([&] { sent = write_all(fd.get(), payload, 60000ms); });
  const std::size_t want = 14 + payload.size();
  std::string got;
  std::vector<char> buf(32 * 1024);
  std::string how = "complete";
  while (got.size() < want) {
    if (!wait_for(fd.get(), POLLIN, 60000ms)) {
      how = "no byte for 60 s";
      break;
    }
    const ssize_t r = ::recv(fd.get(), buf.data(), std::min(buf.size(), want - got.size()), MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      how = r == 0 ? "eof" : std::strerror(errno);
      break;
    }
    if (r < 0) continue;
    got.append(buf.data(), static_cast<std::size_t>(r));
    advance_clock(s.server, clock, 400ms);
  }
  writer.join();
  ASSERT_TRUE(sent);
  EXPECT_EQ(how, "complete") << "closed after " << got.size() << " bytes";
  ASSERT_EQ(got.size(), want);
  EXPECT_TRUE(got == "Hello, World!\n" + payload) << "echo corrupted";
  EXPECT_EQ(closed(s.server, CloseReason::kIdleTimeout), 0u);
  // Still open and echoing; idle from now on, it is then closed (with a FIN, nothing owed)
  // once the loop's time passes the timeout.
  ASSERT_TRUE(write_all(fd.get(), "still here"));
  EXPECT_EQ(read_exactly(fd.get(), 10), "still here");
  EXPECT_TRUE(eventually([&] {
    advance_clock(s.server, clock, 1s);
    return closed(s.server, CloseReason::kIdleTimeout) == 1;
  }));
  EXPECT_TRUE(wait_closed(fd.get(), 10000ms));
}

}  // namespace
}  // namespace reactord::test_support
