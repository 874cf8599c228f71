// reactord under injected system-call faults (issue 14): an in-process Server whose loop
// thread has a reactor::FaultInjector installed (the OsSysCalls seam, reactor/sys_calls.h),
// driven by real clients over loopback. Checks the server's own reactions — Connection closes
// by reason, LoopWorker's accept-error counters, rejects at setup — not only the reactor's:
// no crash, no spin (the loop's iterations are counted), the victim alone is closed or nobody
// is, and a second client's echo stays byte-exact.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "reactor/fault_injector.h"
#include "server/cross_loop_state.h"
#include "server_fixture.h"
#include "support/byte_pattern.h"

namespace reactord::test_support {
namespace {

using reactor::FaultRule;

// The server-side socket (in this process) whose peer is the client socket `client_fd`.
int server_side_fd(int client_fd) {
  const std::string client = reactor::SocketAddress::local_of(client_fd).to_string();
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* e = ::readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (fd <= 2 || fd == client_fd || fd == ::dirfd(dir)) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
    if (reactor::SocketAddress(reinterpret_cast<sockaddr*>(&ss), len).to_string() == client) found = fd;
  }
  ::closedir(dir);
  return found;
}

// Echoes `total` bytes in 32 KiB rounds (never more in flight than the socket buffers hold);
// true if every byte came back in order.
bool echo_exact(int fd, std::size_t total, unsigned seed) {
  const std::string data = test_support::byte_pattern(total, seed);
  for (std::size_t off = 0; off < total; off += 32 * 1024) {
    const std::string_view chunk = std::string_view(data).substr(off, 32 * 1024);
    if (!write_all(fd, chunk)) return false;
    if (read_exactly(fd, chunk.size()) != chunk) return false;
  }
  return true;
}

class ServerFault : public testing::Test {
 protected:
  ServerFault() : s_(config()) {
    // Installed on loop 0's thread only: the test thread and its clients talk to the OS.
    on_loop(s_.server, 0, [this](LoopWorker&) { reactor::install_sys_calls(&faults_); });
  }
  static Config config() {
    Config c = test_config();
    c.loops = 1;
    return c;
  }
  const LoopCounters& counters() { return s_.server.loop(0).counters(); }
  std::uint64_t closed(CloseReason r) { return counters().closed[static_cast<std::size_t>(r)].get(); }
  std::uint64_t accept_errors(int error) {
    return counters().accept_errors[static_cast<std::size_t>(error)].get();
  }
  std::uint64_t iterations() {
    return on_loop(s_.server, 0, [](LoopWorker& w) { return w.base().stats().iterations; });
  }
  int listen_fd() {
    return on_loop(s_.server, 0, [](LoopWorker& w) { return w.listener() ? w.listener()->fd() : -1; });
  }

  // A transient errno once on the victim's `calls`: its echo is byte-exact, nobody is closed.
  void expect_retried(std::uint32_t calls, int error) {
    reactor::UniqueFd victim = s_.connect_greeted();
    reactor::UniqueFd other = s_.connect_greeted();
    ASSERT_TRUE(eventually([&] { return s_.server.open_connections() == 2; }));
    faults_.fail({.calls = calls, .error = error, .fd = server_side_fd(victim.get())});
    const std::uint64_t before = iterations();
    EXPECT_TRUE(echo_exact(victim.get(), 256 * 1024, 1));
    EXPECT_TRUE(echo_exact(other.get(), 64 * 1024, 2));
    EXPECT_EQ(faults_.injected(calls), 1u);
    EXPECT_LT(iterations() - before, 2000u) << "the loop spun";
    EXPECT_EQ(counters().closed_total(), 0u);
    EXPECT_EQ(s_.server.open_connections(), 2u);
  }

  // A hard errno on every one of the victim's `calls`: the victim alone is closed, counted
  // under `reason`; the failing call is not retried in a loop; the other client and new
  // clients are served byte-exact.
  void expect_closes_victim_only(std::uint32_t calls, int error, CloseReason reason,
                                 std::uint64_t max_calls) {
    reactor::UniqueFd victim = s_.connect_greeted();
    reactor::UniqueFd other = s_.connect_greeted();
    ASSERT_TRUE(eventually([&] { return s_.server.open_connections() == 2; }));
    faults_.fail(
        {.calls = calls, .error = error, .times = FaultRule::kEvery, .fd = server_side_fd(victim.get())});
    const std::uint64_t before = iterations();
    ASSERT_TRUE(write_all(victim.get(), "doomed"));
    EXPECT_TRUE(wait_closed(victim.get()));
    EXPECT_TRUE(eventually([&] { return closed(reason) == 1; }));
    EXPECT_EQ(counters().closed_total(), 1u);
    EXPECT_GE(faults_.injected(calls), 1u);
    EXPECT_LE(faults_.injected(calls), max_calls) << "the failing call was retried";
    faults_.clear();  // the victim's fd number may come back for the next client
    EXPECT_TRUE(echo_exact(other.get(), 256 * 1024, 3));
    EXPECT_LT(iterations() - before, 2000u) << "the loop spun";
    reactor::UniqueFd fresh = s_.connect_greeted();
    EXPECT_TRUE(echo_exact(fresh.get(), 8 * 1024, 4));
    EXPECT_EQ(s_.server.state(), ServerState::kServing);
  }

  reactor::FaultInjector faults_;  // outlives the server: its loop thread may use it to the end
  RunningServer s_;
};

// ---- reads ---------------------------------------------------------------------------------

TEST_F(ServerFault, ReadEintrIsRetried) { expect_retried(reactor::kSysAnyRead, EINTR); }
TEST_F(ServerFault, ReadEagainIsRetried) { expect_retried(reactor::kSysAnyRead, EAGAIN); }
TEST_F(ServerFault, ReadEconnresetClosesThatClientAsError) {
  expect_closes_victim_only(reactor::kSysAnyRead, ECONNRESET, CloseReason::kError, 1);
}
// ENOMEM from the kernel's read: the client pays (closed{no_memory}), not the process.
TEST_F(ServerFault, ReadEnomemClosesThatClientAsNoMemory) {
  expect_closes_victim_only(reactor::kSysAnyRead, ENOMEM, CloseReason::kNoMemory, 1);
}

// ---- writes --------------------------------------------------------------------------------

TEST_F(ServerFault, SendEintrIsRetried) { expect_retried(reactor::kSysAnyWrite, EINTR); }
TEST_F(ServerFault, SendEagainIsRetried) { expect_retried(reactor::kSysAnyWrite, EAGAIN); }
TEST_F(ServerFault, SendEpipeClosesThatClientAsError) {
  expect_closes_victim_only(reactor::kSysAnyWrite, EPIPE, CloseReason::kError, 2);
}
TEST_F(ServerFault, SendEconnresetClosesThatClientAsError) {
  expect_closes_victim_only(reactor::kSysAnyWrite, ECONNRESET, CloseReason::kError, 2);
}
TEST_F(ServerFault, SendEnobufsClosesThatClientAsError) {
  expect_closes_victim_only(reactor::kSysAnyWrite, ENOBUFS, CloseReason::kError, 2);
}

// ---- Buffer block allocation ---------------------------------------------------------------

TEST_F(ServerFault, BlockAllocationEnomemClosesThatClientAsNoMemory) {
  reactor::UniqueFd victim = s_.connect_greeted();
  reactor::UniqueFd other = s_.connect_greeted();
  ASSERT_TRUE(eventually([&] { return s_.server.open_connections() == 2; }));
  // The read block (64 KiB) of the next read; the other client is idle meanwhile.
  faults_.fail({.calls = reactor::kSysMalloc, .error = ENOMEM, .min_bytes = 16 * 1024});
  ASSERT_TRUE(write_all(victim.get(), "needs a block"));
  EXPECT_TRUE(wait_closed(victim.get()));
  EXPECT_TRUE(eventually([&] { return closed(CloseReason::kNoMemory) == 1; }));
  EXPECT_EQ(faults_.injected(reactor::kSysMalloc), 1u);
  EXPECT_EQ(counters().closed_total(), 1u);
  EXPECT_TRUE(echo_exact(other.get(), 256 * 1024, 5));
  EXPECT_EQ(s_.server.state(), ServerState::kServing);
}

// ---- accept4 -------------------------------------------------------------------------------

// Out of fds: the listener sheds that client with its spare fd (the client sees its
// connection closed at once rather than hanging in the backlog), LoopWorker counts the
// EMFILE and the shed, and the next client is served.
TEST_F(ServerFault, AcceptEmfileShedsThatClientAndCountsIt) {
  reactor::UniqueFd other = s_.connect_greeted();
  faults_.fail({.calls = reactor::kSysAccept4, .error = EMFILE, .fd = listen_fd()});
  reactor::UniqueFd shed = s_.connect();
  ASSERT_TRUE(shed.valid());
  EXPECT_TRUE(wait_closed(shed.get()));
  EXPECT_TRUE(eventually([&] { return accept_errors(EMFILE) == 1; }));
  EXPECT_EQ(counters().accept_errors_shed.get(), 1u);
  EXPECT_EQ(counters().accept_errors_total(), 1u);
  EXPECT_EQ(counters().accepted.get(), 1u);  // only `other`
  reactor::UniqueFd next = s_.connect_greeted();
  EXPECT_TRUE(echo_exact(next.get(), 8 * 1024, 6));
  EXPECT_TRUE(echo_exact(other.get(), 128 * 1024, 7));
}

// accept4 fails in a way that readiness cannot fix (ENOBUFS, ENOMEM; ENFILE with no spare):
// accepting pauses — no spin — the error is counted, and the client waiting in the backlog is
// accepted and greeted once accepting resumes.
class ServerAcceptPause : public ServerFault, public testing::WithParamInterface<int> {};

TEST_P(ServerAcceptPause, PausesCountsAndResumes) {
  const int error = GetParam();
  reactor::UniqueFd other = s_.connect_greeted();
  faults_.fail({.calls = reactor::kSysAccept4, .error = error, .times = 2, .fd = listen_fd()});
  reactor::UniqueFd waiting = s_.connect();
  ASSERT_TRUE(waiting.valid());
  ASSERT_TRUE(eventually([&] { return accept_errors(error) >= 1; }));
  const std::uint64_t before = iterations();
  // Served after the pause (100 ms), the greeting first.
  const std::string& greeting = s_.server.config().greeting;
  EXPECT_EQ(read_exactly(waiting.get(), greeting.size()), greeting);
  EXPECT_LT(iterations() - before, 200u) << "the listener spun while paused";
  EXPECT_TRUE(echo_exact(waiting.get(), 8 * 1024, 8));
  EXPECT_TRUE(echo_exact(other.get(), 64 * 1024, 9));
  EXPECT_EQ(counters().accept_errors_total(), accept_errors(error));
  EXPECT_EQ(counters().accept_errors_shed.get(), 0u) << "a pause is not a shed";
  EXPECT_EQ(counters().closed_total(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Errors, ServerAcceptPause, testing::Values(ENOBUFS, ENOMEM, ENFILE),
                         [](const testing::TestParamInfo<int>& instance) {
                           return std::string(instance.param == ENOBUFS  ? "Enobufs"
                                              : instance.param == ENOMEM ? "Enomem"
                                                                         : "Enfile");
                         });

TEST_F(ServerFault, AcceptEintrAndEagainAreRetried) {
  faults_.fail({.calls = reactor::kSysAccept4, .error = EINTR, .fd = listen_fd()});
  reactor::UniqueFd first = s_.connect_greeted();
  faults_.fail({.calls = reactor::kSysAccept4, .error = EAGAIN, .fd = listen_fd()});
  reactor::UniqueFd second = s_.connect_greeted();
  EXPECT_EQ(faults_.injected(reactor::kSysAccept4), 2u);
  EXPECT_EQ(counters().accept_errors_total(), 0u);
  EXPECT_TRUE(echo_exact(first.get(), 8 * 1024, 10));
  EXPECT_TRUE(echo_exact(second.get(), 8 * 1024, 11));
}

// ---- epoll_ctl / epoll_wait ----------------------------------------------------------------

// The kernel cannot register a new client (ENOSPC: max_user_watches; ENOMEM): that client is
// turned away (rejected{setup_error}, closed) and nobody else notices.
TEST_F(ServerFault, EpollCtlEnospcOnANewClientRejectsThatClient) {
  reactor::UniqueFd other = s_.connect_greeted();
  // The greeting is sent before the read event is registered: an echo proves it is.
  ASSERT_TRUE(echo_exact(other.get(), 16, 0));
  faults_.fail({.calls = reactor::kSysEpollCtl, .error = ENOSPC});
  reactor::UniqueFd victim = s_.connect();
  ASSERT_TRUE(victim.valid());
  EXPECT_TRUE(wait_closed(victim.get()));
  EXPECT_TRUE(eventually(
      [&] { return counters().rejected[static_cast<std::size_t>(RejectReason::kSetupError)].get() == 1; }));
  EXPECT_EQ(faults_.injected(reactor::kSysEpollCtl), 1u);
  EXPECT_TRUE(echo_exact(other.get(), 128 * 1024, 12));
  reactor::UniqueFd fresh = s_.connect_greeted();
  EXPECT_TRUE(echo_exact(fresh.get(), 8 * 1024, 13));
  EXPECT_EQ(s_.server.state(), ServerState::kServing);
}

// A client paused by backpressure (it did not read its echo) resumes when it reads: its read
// event is registered again, and the kernel may refuse (ENOSPC: max_user_watches). That
// client is closed (closed{reason="error"}); the loop, and every other client, go on.
TEST_F(ServerFault, EpollCtlFailureWhenAPausedClientResumesClosesThatClientOnly) {
  reactor::UniqueFd victim = s_.connect_greeted();
  reactor::UniqueFd other = s_.connect_greeted();
  ASSERT_TRUE(echo_exact(other.get(), 16, 0));
  // Send without reading until the server pauses reading from us (bounded: 64 MiB).
  const std::string chunk(64 * 1024, 'p');
  for (int i = 0; i < 1024 && counters().backpressure_pauses.get() == 0; ++i) {
    if (::send(victim.get(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
        errno != EAGAIN) {
      FAIL() << "send: " << std::strerror(errno);
    }
    if (errno == EAGAIN) wait_for(victim.get(), POLLOUT, 20ms);
  }
  ASSERT_TRUE(eventually([&] { return counters().backpressure_pauses.get() == 1; }));
  faults_.fail({.calls = reactor::kSysEpollCtl,
                .error = ENOSPC,
                .times = FaultRule::kEvery,
                .fd = server_side_fd(victim.get())});
  // Reading the echo resumes the server's reading: refused, so the victim is closed.
  EXPECT_TRUE(wait_closed(victim.get(), 10000ms));
  EXPECT_TRUE(eventually([&] { return closed(CloseReason::kError) == 1; }));
  EXPECT_GE(faults_.injected(reactor::kSysEpollCtl), 1u);
  faults_.clear();
  EXPECT_TRUE(echo_exact(other.get(), 128 * 1024, 15));
  reactor::UniqueFd fresh = s_.connect_greeted();
  EXPECT_TRUE(echo_exact(fresh.get(), 8 * 1024, 16));
  EXPECT_EQ(s_.server.state(), ServerState::kServing);
}

TEST_F(ServerFault, EpollWaitEintrIsRetried) {
  reactor::UniqueFd client = s_.connect_greeted();
  faults_.fail({.calls = reactor::kSysEpollWait, .error = EINTR, .times = 5});
  EXPECT_TRUE(echo_exact(client.get(), 128 * 1024, 14));
  EXPECT_TRUE(eventually([&] { return faults_.exhausted(); }));
  EXPECT_EQ(counters().closed_total(), 0u);
  EXPECT_EQ(s_.server.state(), ServerState::kServing);
}

// epoll_wait failing with anything but EINTR (EBADF, EINVAL, EFAULT: the loop's epoll set is
// gone or broken) cannot be waited out: going on would spin or miss every event. The decided
// behaviour (docs/RELIABILITY.md): that loop ends, the process stops in order — every loop,
// every client closed — and exits with kExitLoopFailed (70), so a supervisor restarts it; it
// never hangs with a loop silently dead. In-process, two loops, the fault on loop 1's thread.
TEST(ServerLoopFault, EpollWaitFailureStopsTheProcessWithExitCode70) {
  for (int error : {EBADF, EINVAL}) {
    SCOPED_TRACE(std::strerror(error));
    Config c = test_config();
    c.loops = 2;
    reactor::FaultInjector faults;  // outlives the server
    Server server(c);
    server.start();
    on_loop(server, 1, [&](LoopWorker&) { reactor::install_sys_calls(&faults); });
    // A client on each loop (round robin), greeted.
    std::vector<reactor::UniqueFd> clients;
    for (int i = 0; i < 2; ++i) {
      clients.push_back(connect_to(server.listen_address()));
      EXPECT_EQ(read_exactly(clients.back().get(), server.config().greeting.size()),
                server.config().greeting);
    }
    faults.fail({.calls = reactor::kSysEpollWait, .error = error, .times = FaultRule::kEvery});
    // Wake loop 1 so that it polls again (it may be blocked in a wait that began before).
    server.loop(1).post([] {});
    // wait() returns (a hang is the test's timeout) with the loop-failure code.
    EXPECT_EQ(server.wait(), kExitLoopFailed);
    EXPECT_EQ(faults.injected(reactor::kSysEpollWait), 1u) << "the failing epoll_wait was retried";
    EXPECT_EQ(server.state(), ServerState::kStopped);
    // Both clients see their connection end: nobody is left hanging on a dead loop.
    for (auto& fd : clients) EXPECT_TRUE(wait_closed(fd.get()));
  }
}

}  // namespace
}  // namespace reactord::test_support
