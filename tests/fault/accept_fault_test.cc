// Faults on accept4, injected through the OsSysCalls seam on an echo server's Listener: a
// transient error is retried, EMFILE sheds one client with the spare fd and goes on accepting,
// ENFILE (no spare to be had), ENOBUFS and ENOMEM pause accepting (no spin on the readiness)
// and resume by themselves; the error callback hears each, the counters count them, and an
// established client's echo stays byte-exact throughout.
#include <gtest/gtest.h>

#include <cerrno>

#include "fault_harness.h"

namespace reactord::test_support {
namespace {

using reactor::FaultRule;

class AcceptFault : public reactord::test_support::BackendTest {
 protected:
  void SetUp() override {
    other_ = accepted_client(base_, server_);
    ASSERT_TRUE(echo_exact(base_, *other_, "warm-up"));
  }
  int listen_fd() { return server_.listener().fd(); }

  // Runs the loop for `window` with nothing else to do; returns the iterations it took.
  std::uint64_t idle_iterations(reactor::Duration window) {
    const std::uint64_t before = iterations(base_);
    reactord::test_support::run_until(
        base_, [] { return false; }, window);
    return iterations(base_) - before;
  }

  // accept4 fails once with `error` (not EMFILE/ENFILE): accepting pauses (the client stays in
  // the backlog, no spin while paused), the error is reported once, then the client is served.
  void expect_backoff_and_resume(int error) {
    faults_.fail({.calls = reactor::kSysAccept4, .error = error, .fd = listen_fd()});
    reactor::UniqueFd fd = connect_client(server_.address());
    const int raw = fd.get();
    ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return !server_.listener_errors().empty(); }));
    EXPECT_EQ(server_.listener_errors(), std::vector<int>{error});
    EXPECT_EQ(server_.listener().error_count(), 1u);
    EXPECT_EQ(server_.conn_of(raw), nullptr);
    // Paused: a spinning listener would run thousands of iterations in this window.
    EXPECT_LT(idle_iterations(std::chrono::milliseconds(50)), 20u);
    EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(100000, 21)));
    // Resumes after the back-off: the waiting client is accepted and echoed.
    ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return server_.conn_of(raw) != nullptr; }));
    reactord::test_support::Peer peer(base_, std::move(fd));
    peer.start_reading();
    EXPECT_TRUE(echo_exact(base_, peer, byte_pattern(50000, 22)));
    EXPECT_EQ(faults_.injected(reactor::kSysAccept4), 1u);
    EXPECT_EQ(server_.closed_count(), 0u);
  }

  reactor::FaultInjector faults_;
  reactor::ScopedSysCalls installed_{faults_};
  EchoServer server_{base_};
  std::unique_ptr<reactord::test_support::Peer> other_;
};

TEST_P(AcceptFault, EintrIsRetried) {
  faults_.fail({.calls = reactor::kSysAccept4, .error = EINTR, .fd = listen_fd()});
  auto client = accepted_client(base_, server_);
  EXPECT_TRUE(echo_exact(base_, *client, byte_pattern(50000, 23)));
  EXPECT_EQ(faults_.injected(reactor::kSysAccept4), 1u);
  EXPECT_TRUE(server_.listener_errors().empty());
  EXPECT_EQ(server_.listener().error_count(), 0u);
}

TEST_P(AcceptFault, EagainWaitsForTheNextReadiness) {
  faults_.fail({.calls = reactor::kSysAccept4, .error = EAGAIN, .fd = listen_fd()});
  const std::uint64_t before = iterations(base_);
  auto client = accepted_client(base_, server_);
  EXPECT_LT(iterations(base_) - before, 20u);
  EXPECT_TRUE(echo_exact(base_, *client, byte_pattern(50000, 24)));
  EXPECT_EQ(faults_.injected(reactor::kSysAccept4), 1u);
  EXPECT_TRUE(server_.listener_errors().empty());
}

// Out of fds: the spare fd is given up to accept the excess client and close it at once (it
// sees EOF instead of waiting in the backlog), EMFILE is reported, and the next client is
// served as usual.
TEST_P(AcceptFault, EmfileShedsThatClientAndKeepsAccepting) {
  faults_.fail({.calls = reactor::kSysAccept4, .error = EMFILE, .fd = listen_fd()});
  reactord::test_support::Peer shed(base_, connect_client(server_.address()));
  shed.start_reading();
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return shed.eof() || shed.error() != 0; }));
  EXPECT_EQ(server_.listener_errors(), std::vector<int>{EMFILE});
  EXPECT_EQ(server_.listener().shed_count(), 1u);
  EXPECT_EQ(server_.listener().error_count(), 0u);  // shed, not paused
  EXPECT_EQ(server_.conns().size(), 1u);            // only `other`
  EXPECT_LT(idle_iterations(std::chrono::milliseconds(50)), 20u);
  auto next = accepted_client(base_, server_);
  EXPECT_TRUE(echo_exact(base_, *next, byte_pattern(50000, 25)));
  EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(100000, 26)));
}

// The whole system out of files: even the spare cannot be used (the shedding accept fails
// too), so accepting pauses instead of spinning, and resumes once files are back.
TEST_P(AcceptFault, EnfileEverywherePausesAcceptingThenResumes) {
  faults_.fail(
      {.calls = reactor::kSysAccept4, .error = ENFILE, .times = FaultRule::kEvery, .fd = listen_fd()});
  reactor::UniqueFd fd = connect_client(server_.address());
  const int raw = fd.get();
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return !server_.listener_errors().empty(); }));
  EXPECT_EQ(server_.listener_errors().front(), ENFILE);
  EXPECT_GE(server_.listener().error_count(), 1u);
  EXPECT_LT(idle_iterations(std::chrono::milliseconds(50)), 20u);
  EXPECT_LE(faults_.injected(reactor::kSysAccept4), 2u * (server_.listener().error_count()));
  EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(100000, 27)));
  faults_.clear();  // files are back
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return server_.conn_of(raw) != nullptr; }));
  reactord::test_support::Peer peer(base_, std::move(fd));
  peer.start_reading();
  EXPECT_TRUE(echo_exact(base_, peer, byte_pattern(50000, 28)));
}

TEST_P(AcceptFault, EnobufsPausesAcceptingThenResumes) { expect_backoff_and_resume(ENOBUFS); }
TEST_P(AcceptFault, EnomemPausesAcceptingThenResumes) { expect_backoff_and_resume(ENOMEM); }

REACTORD_BACKEND_SUITE(AcceptFault);

}  // namespace
}  // namespace reactord::test_support
