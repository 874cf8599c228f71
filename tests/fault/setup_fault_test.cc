// Faults on the calls that set things up rather than move bytes, injected through the
// OsSysCalls seam: eventfd (an EventBase's wakeup), epoll_ctl (registering an fd), setsockopt
// (a Listener's options; SO_LINGER on an abortive close), getsockopt (connect completion) and
// close. Each fails cleanly: an exception with the errno where there is no one to report to,
// the error callback where there is, and no fd leaks.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <system_error>

#include "fault_harness.h"

namespace reactord::test_support {
namespace {

using reactor::FaultRule;

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

int system_error_code(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  return 0;
}

TEST(SetupFault, EventfdEmfileFailsTheBaseWithTheErrno) {
  for (int error : {EMFILE, ENFILE, ENOMEM}) {
    reactor::FaultInjector faults;
    reactor::ScopedSysCalls installed(faults);
    faults.fail({.calls = reactor::kSysEventfd, .error = error});
    const std::size_t fds = open_fds();
    EXPECT_EQ(system_error_code([] { reactor::EventBase base; }), error);
    EXPECT_EQ(open_fds(), fds) << "an fd leaked";
    EXPECT_EQ(faults.injected(reactor::kSysEventfd), 1u);
    // The next base is fine.
    reactor::EventBase base;
    bool ran = false;
    base.post([&] { ran = true; });
    EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return ran; }));
  }
}

TEST(SetupFault, EpollCtlEnomemFailsThatRegistrationOnly) {
  for (int error : {ENOMEM, ENOSPC}) {
    reactor::EventBase base(reactor::EventBaseConfig{reactor::Backend::kEpoll, 1});
    reactor::FaultInjector faults;
    reactor::ScopedSysCalls installed(faults);
    reactord::test_support::TcpPair victim = reactord::test_support::tcp_pair();
    reactord::test_support::TcpPair other = reactord::test_support::tcp_pair();
    int other_reads = 0;
    reactor::Event other_ev(base, other.server.get(), reactor::kRead | reactor::kPersist,
                            [&](int fd, reactor::EventFlags) {
                              char buf[64];
                              other_reads += ::recv(fd, buf, sizeof buf, 0) > 0;
                            });
    other_ev.add();
    faults.fail({.calls = reactor::kSysEpollCtl, .error = error, .fd = victim.server.get()});
    reactor::Event victim_ev(base, victim.server.get(), reactor::kRead, [](int, reactor::EventFlags) {});
    EXPECT_EQ(system_error_code([&] { victim_ev.add(); }), error);
    EXPECT_FALSE(reactor::any(victim_ev.pending(reactor::kRead)));
    // The base and the other event are unaffected; the victim can register once memory is back.
    ASSERT_EQ(::send(other.client.get(), "x", 1, 0), 1);
    EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return other_reads == 1; }));
    faults.clear();
    victim_ev.add();
    EXPECT_TRUE(reactor::any(victim_ev.pending(reactor::kRead)));
  }
}

TEST(SetupFault, ListenerSetsockoptFailureThrowsWithoutLeakingTheSocket) {
  reactor::EventBase base;
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  faults.fail({.calls = reactor::kSysSetsockopt, .error = ENOMEM});
  const std::size_t fds = open_fds();
  EXPECT_EQ(system_error_code([&] {
              reactor::Listener listener(base, reactor::SocketAddress::ipv4_loopback(0),
                                         reactor::kLevOptReuseable, -1,
                                         [](reactor::UniqueFd, const reactor::SocketAddress&) {});
            }),
            ENOMEM);
  EXPECT_EQ(open_fds(), fds);
}

// SO_LINGER cannot be set on an abortive close: the socket is closed all the same (the peer
// sees an EOF instead of a reset) and the fd is not leaked.
TEST(SetupFault, SoLingerFailureStillClosesTheSocket) {
  reactor::EventBase base;
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  EchoServer server(base);
  auto victim = accepted_client(base, server);
  ASSERT_TRUE(echo_exact(base, *victim, "hello"));
  const std::size_t fds = open_fds();
  faults.fail({.calls = reactor::kSysSetsockopt, .error = ENOBUFS, .fd = server.conn_of(victim->fd())->fd});
  server.conn_of(victim->fd())->bev->close_abortively();
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return victim->eof() || victim->error() != 0; }));
  EXPECT_EQ(faults.injected(reactor::kSysSetsockopt), 1u);
  EXPECT_EQ(open_fds(), fds - 1);
}

// Connect completion reads SO_ERROR with getsockopt; if that fails, the connect is reported
// as failed with that errno (not as connected, not a crash).
TEST(SetupFault, GetsockoptFailureOnConnectIsReportedAsAnError) {
  reactor::EventBase base;
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  EchoServer server(base);
  reactor::BufferEvent bev(base, -1, reactor::kBevOptCloseOnFree);
  reactor::BevFlags what{};
  int error = 0;
  bev.setcb({}, {}, [&](reactor::BufferEvent&, reactor::BevFlags w, int e) {
    what = w;
    error = e;
  });
  faults.fail({.calls = reactor::kSysGetsockopt, .error = ENOBUFS});
  ASSERT_TRUE(bev.connect(server.address()));
  ASSERT_TRUE(reactord::test_support::run_until(base, [&] { return reactor::any(what); }));
  EXPECT_EQ(what, reactor::kBevError);
  EXPECT_EQ(error, ENOBUFS);
  EXPECT_EQ(faults.injected(reactor::kSysGetsockopt), 1u);
}

// close reports EINTR: Linux has released the fd anyway; the reactor does not retry it (a
// retry could close someone else's new fd) and leaks nothing.
TEST(SetupFault, CloseEintrIsNotRetried) {
  reactor::EventBase base;
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  EchoServer server(base);
  auto victim = accepted_client(base, server);
  auto other = accepted_client(base, server);
  ASSERT_TRUE(echo_exact(base, *victim, "hello"));
  const std::size_t fds = open_fds();
  faults.fail({.calls = reactor::kSysClose,
               .error = EINTR,
               .times = FaultRule::kEvery,
               .fd = server.conn_of(victim->fd())->fd});
  victim->shutdown_write();  // the server closes gracefully
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return victim->eof() || victim->error() != 0; }));
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return faults.calls(reactor::kSysClose) >= 1; }));
  EXPECT_EQ(faults.injected(reactor::kSysClose), 1u);
  faults.clear();
  EXPECT_EQ(open_fds(), fds - 1);
  EXPECT_TRUE(echo_exact(base, *other, byte_pattern(100000, 31)));
}

}  // namespace
}  // namespace reactord::test_support

namespace reactord::test_support {
namespace {

// Output that must wait for the socket arms the write event; when the fd is not in the epoll
// set yet (reading disabled or paused by backpressure) that is an epoll_ctl ADD, which the
// kernel can refuse (ENOSPC: max_user_watches; ENOMEM). That connection gets the error from
// the loop — write() does not throw, the loop does not die.
TEST(SetupFault, EpollCtlFailureWhenArmingTheWriteIsReportedToThatConnection) {
  reactor::EventBase base(reactor::EventBaseConfig{reactor::Backend::kEpoll, 1});
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  reactord::test_support::TcpPair pair = reactord::test_support::tcp_pair();
  const int fd = pair.server.get();
  reactor::BufferEvent bev(base, pair.server.release(), reactor::kBevOptCloseOnFree);
  reactor::BevFlags what{};
  int error = 0;
  bev.setcb({}, {}, [&](reactor::BufferEvent& b, reactor::BevFlags w, int e) {
    what = w;
    error = e;
    b.close_abortively();
  });
  faults.fail({.calls = reactor::kSysAnyWrite, .error = EAGAIN, .fd = fd});
  faults.fail({.calls = reactor::kSysEpollCtl, .error = ENOSPC, .fd = fd});
  EXPECT_NO_THROW(bev.write("must wait"));
  ASSERT_TRUE(reactord::test_support::run_until(base, [&] { return reactor::any(what); }));
  EXPECT_EQ(what, reactor::kBevError | reactor::kBevWriting);
  EXPECT_EQ(error, ENOSPC);
  EXPECT_TRUE(bev.closed());
  EXPECT_EQ(faults.injected(reactor::kSysEpollCtl), 1u);
  // The base goes on.
  bool ran = false;
  base.post([&] { ran = true; });
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return ran; }));
}

}  // namespace
}  // namespace reactord::test_support
