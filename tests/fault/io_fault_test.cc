// Faults on the data path of a connection, injected through the OsSysCalls seam
// (reactor/sys_calls.h) on the server side of an echo server: reads (read/readv), writes
// (send/sendmsg/writev) and the allocation of a Buffer block. For each: no crash, no spin (the
// loop's iterations and the failed call's retries are counted), the client is retried or
// closed as the errno means, and a second client's echo stays byte-exact.
#include <gtest/gtest.h>

#include <cerrno>

#include "fault_harness.h"

namespace reactord::test_support {
namespace {

using reactor::FaultRule;

class IoFault : public reactord::test_support::BackendTest {
 protected:
  // Victim and bystander both connected and echoing before any fault.
  void SetUp() override {
    victim_ = accepted_client(base_, server_);
    other_ = accepted_client(base_, server_);
    ASSERT_TRUE(echo_exact(base_, *victim_, "warm-up"));
    ASSERT_TRUE(echo_exact(base_, *other_, "warm-up"));
  }
  int victim_fd() { return server_.conn_of(victim_->fd())->fd; }
  ServerConn& victim_conn() { return *server_.conn_of(victim_->fd()); }

  // A transient errno on `calls` (fails once): the victim's echo still comes back byte-exact,
  // nobody is closed, and it costs a bounded number of loop iterations.
  void expect_retried(std::uint32_t calls, int error) {
    faults_.fail({.calls = calls, .error = error, .fd = victim_fd()});
    const std::uint64_t before = iterations(base_);
    EXPECT_TRUE(echo_exact(base_, *victim_, byte_pattern(200000, 7)));
    EXPECT_LT(iterations(base_) - before, 2000u) << "the loop spun";
    EXPECT_EQ(faults_.injected(calls), 1u);
    EXPECT_TRUE(faults_.exhausted());
    EXPECT_EQ(server_.closed_count(), 0u);
    EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(100000, 8)));
  }

  // A hard errno on every matching call: the victim alone is closed, with `expect_what` and
  // the errno reported; the failing call is not retried in a loop; the other client's echo is
  // byte-exact; new clients are served.
  void expect_closes_victim_only(std::uint32_t calls, int error, reactor::BevFlags expect_what,
                                 std::uint64_t max_calls) {
    faults_.fail({.calls = calls, .error = error, .times = FaultRule::kEvery, .fd = victim_fd()});
    const std::uint64_t before = iterations(base_);
    victim_->send("doomed bytes");
    ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return reactor::any(victim_conn().what); }));
    EXPECT_EQ(victim_conn().what, expect_what);
    EXPECT_EQ(victim_conn().error, error);
    EXPECT_TRUE(victim_conn().bev->closed());
    // The client sees its connection end (reset or EOF).
    EXPECT_TRUE(
        reactord::test_support::run_until(base_, [&] { return victim_->eof() || victim_->error() != 0; }));
    EXPECT_GE(faults_.injected(calls), 1u);
    EXPECT_LE(faults_.injected(calls), max_calls) << "the failing call was retried";
    faults_.clear();  // the victim's fd number may come back for the next client
    EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(300000, 9)));
    EXPECT_LT(iterations(base_) - before, 3000u) << "the loop spun";
    EXPECT_EQ(server_.closed_count(), 1u);
    auto fresh = accepted_client(base_, server_);
    EXPECT_TRUE(echo_exact(base_, *fresh, byte_pattern(5000, 10)));
  }

  reactor::FaultInjector faults_;
  reactor::ScopedSysCalls installed_{faults_};
  EchoServer server_{base_};
  std::unique_ptr<reactord::test_support::Peer> victim_;
  std::unique_ptr<reactord::test_support::Peer> other_;
};

// ---- read / readv --------------------------------------------------------------------------

TEST_P(IoFault, ReadEintrIsRetried) { expect_retried(reactor::kSysAnyRead, EINTR); }
TEST_P(IoFault, ReadEagainWaitsForTheNextReadiness) { expect_retried(reactor::kSysAnyRead, EAGAIN); }
TEST_P(IoFault, ReadEconnresetClosesThatClientOnly) {
  expect_closes_victim_only(reactor::kSysAnyRead, ECONNRESET, reactor::kBevError | reactor::kBevReading, 1);
}
TEST_P(IoFault, ReadEnomemClosesThatClientOnly) {
  expect_closes_victim_only(reactor::kSysAnyRead, ENOMEM, reactor::kBevError | reactor::kBevReading, 1);
}
TEST_P(IoFault, ReadEnobufsClosesThatClientOnly) {
  expect_closes_victim_only(reactor::kSysAnyRead, ENOBUFS, reactor::kBevError | reactor::kBevReading, 1);
}

// ---- send / sendmsg / writev ---------------------------------------------------------------

TEST_P(IoFault, SendEintrIsRetried) { expect_retried(reactor::kSysAnyWrite, EINTR); }
TEST_P(IoFault, SendEagainWaitsForWritable) { expect_retried(reactor::kSysAnyWrite, EAGAIN); }
// The echo's write at once fails, the write event is armed, the write handler meets the error
// again and reports it: two calls, never more.
TEST_P(IoFault, SendEpipeClosesThatClientOnly) {
  expect_closes_victim_only(reactor::kSysAnyWrite, EPIPE, reactor::kBevError | reactor::kBevWriting, 2);
}
TEST_P(IoFault, SendEconnresetClosesThatClientOnly) {
  expect_closes_victim_only(reactor::kSysAnyWrite, ECONNRESET, reactor::kBevError | reactor::kBevWriting, 2);
}
TEST_P(IoFault, SendEnobufsClosesThatClientOnly) {
  expect_closes_victim_only(reactor::kSysAnyWrite, ENOBUFS, reactor::kBevError | reactor::kBevWriting, 2);
}

// ---- Buffer block allocation ---------------------------------------------------------------

// The read block for the victim's next read cannot be had: the read reports ENOMEM for that
// connection alone (nothing read, nothing lost for anyone else).
TEST_P(IoFault, BlockAllocationEnomemClosesThatClientOnly) {
  faults_.fail({.calls = reactor::kSysMalloc, .error = ENOMEM, .min_bytes = 16 * 1024});
  victim_->send("needs a block");
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return reactor::any(victim_conn().what); }));
  EXPECT_EQ(victim_conn().what, reactor::kBevError | reactor::kBevReading);
  EXPECT_EQ(victim_conn().error, ENOMEM);
  EXPECT_EQ(faults_.injected(reactor::kSysMalloc), 1u);
  EXPECT_TRUE(
      reactord::test_support::run_until(base_, [&] { return victim_->eof() || victim_->error() != 0; }));
  EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(300000, 11)));
  EXPECT_EQ(server_.closed_count(), 1u);
}

// ---- epoll_wait / poll ---------------------------------------------------------------------

TEST_P(IoFault, PollEintrIsRetried) {
  faults_.fail({.calls = reactor::kSysEpollWait | reactor::kSysPoll, .error = EINTR, .times = 3});
  const std::uint64_t before = iterations(base_);
  EXPECT_TRUE(echo_exact(base_, *victim_, byte_pattern(100000, 12)));
  EXPECT_TRUE(echo_exact(base_, *other_, byte_pattern(100000, 13)));
  EXPECT_EQ(faults_.injected(), 3u);
  EXPECT_LT(iterations(base_) - before, 2000u);
  EXPECT_EQ(server_.closed_count(), 0u);
}

REACTORD_BACKEND_SUITE(IoFault);

}  // namespace
}  // namespace reactord::test_support
