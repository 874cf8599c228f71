// Listener over loopback: many clients at once, enable/disable, the per-wakeup accept bound,
// IPv6, wrapping an fd, SO_REUSEPORT and bind errors, socket options of accepted fds.
#include "reactor/listener.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "net_test_support.h"
#include "reactor/buffer_event.h"
#include "reactor/fault_injector.h"
#include "reactor/sys_calls.h"

namespace {

using namespace reactor;
using reactord::test_support::Peer;
using reactord::test_support::run_until;
using reactord::test_support::step;

class ListenerTest : public reactord::test_support::BackendTest {
 protected:
  // A blocking connect: on loopback the kernel completes it from the backlog, no accept needed.
  static UniqueFd connect_to(const SocketAddress& address) {
    UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd && ::connect(fd.get(), address.get(), address.length()) != 0) fd.reset();
    return fd;
  }

  Listener::AcceptCallback keep_fds() {
    return [this](UniqueFd fd, const SocketAddress& peer) {
      peers_.push_back(peer);
      accepted_.push_back(std::move(fd));
    };
  }

  std::vector<UniqueFd> accepted_;
  std::vector<SocketAddress> peers_;
};

TEST_P(ListenerTest, ServesTwoHundredClientsAtOnce) {
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<BufferEvent>> conns;
  std::vector<SocketAddress> peers;
  Listener listener(base_, SocketAddress::ipv4_loopback(0), kLevOptReuseable, -1,
                    [&](UniqueFd fd, const SocketAddress& peer) {
                      peers.push_back(peer);
                      auto bev = std::make_unique<BufferEvent>(base_, fd.release(), kBevOptCloseOnFree);
                      bev->setcb([](BufferEvent& b) { b.write_buffer(b.input()); }, {}, {});
                      bev->enable(kRead);
                      conns.push_back(std::move(bev));
                    });
  const SocketAddress address = listener.local_address();
  ASSERT_NE(address.port(), 0);
  ASSERT_TRUE(address.is_loopback());

  std::vector<std::unique_ptr<Peer>> clients;
  std::vector<SocketAddress> client_addresses;
  for (int i = 0; i < kClients; ++i) {
    UniqueFd fd = connect_to(address);
    ASSERT_TRUE(fd.valid()) << "client " << i << ": " << std::strerror(errno);
    ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
    client_addresses.push_back(SocketAddress::local_of(fd.get()));
    clients.push_back(std::make_unique<Peer>(base_, std::move(fd)));
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_GT(clients[i]->send("client " + std::to_string(i) + "\n"), 0u);
    clients[i]->start_reading();
  }
  ASSERT_TRUE(run_until(
      base_,
      [&] {
        for (int i = 0; i < kClients; ++i) {
          if (clients[i]->received() != "client " + std::to_string(i) + "\n") return false;
        }
        return true;
      },
      std::chrono::seconds(30)));
  ASSERT_EQ(conns.size(), static_cast<std::size_t>(kClients));
  for (const auto& a : client_addresses) {
    EXPECT_NE(std::find(peers.begin(), peers.end(), a), peers.end()) << a.to_string();
  }
  EXPECT_EQ(listener.shed_count(), 0u);
  EXPECT_EQ(listener.error_count(), 0u);
}

TEST_P(ListenerTest, DisableStopsAcceptingAndEnableResumes) {
  Listener listener(base_, SocketAddress::ipv4_loopback(0), kLevOptDisabled, -1, keep_fds());
  EXPECT_FALSE(listener.enabled());
  UniqueFd c1 = connect_to(listener.local_address());
  ASSERT_TRUE(c1);
  step(base_, 5);
  EXPECT_TRUE(accepted_.empty());
  listener.enable();
  EXPECT_TRUE(listener.enabled());
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 1; }));
  listener.disable();
  UniqueFd c2 = connect_to(listener.local_address());
  step(base_, 5);
  EXPECT_EQ(accepted_.size(), 1u);
  listener.enable();
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 2; }));
  EXPECT_EQ(peers_[1], SocketAddress::local_of(c2.get()));
}

TEST_P(ListenerTest, DisableFromTheAcceptCallbackStopsTheBatch) {
  Listener* self = nullptr;
  Listener listener(base_, SocketAddress::ipv4_loopback(0), 0, -1, [&](UniqueFd fd, const SocketAddress&) {
    accepted_.push_back(std::move(fd));
    self->disable();
  });
  self = &listener;
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_to(listener.local_address()));
  ASSERT_TRUE(run_until(base_, [&] { return !accepted_.empty(); }));
  step(base_, 5);
  EXPECT_EQ(accepted_.size(), 1u);
  listener.set_accept_callback(keep_fds());
  listener.enable();
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 3; }));
}

TEST_P(ListenerTest, MaxAcceptsPerWakeupBoundsOneReadiness) {
  Listener listener(base_, SocketAddress::ipv4_loopback(0), 0, -1, keep_fds());
  listener.set_max_accepts_per_wakeup(2);
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(connect_to(listener.local_address()));
  base_.loop(kLoopOnce);
  EXPECT_EQ(accepted_.size(), 2u);
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 5; }));
}

TEST_P(ListenerTest, AcceptPendingTakesWhatWaitsNowEvenWhenDisabled) {
  // A graceful stop's last batch (reactord's drain): the listener is disabled, N clients
  // wait, accept_pending(N) hands exactly those to the callback, and stops at an empty queue.
  Listener listener(base_, SocketAddress::ipv4_loopback(0), kLevOptDisabled, -1, keep_fds());
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(connect_to(listener.local_address()));
  EXPECT_EQ(listener.accept_pending(3), 3u);
  EXPECT_EQ(accepted_.size(), 3u);
  EXPECT_EQ(listener.accept_pending(10), 2u) << "stops when the queue is empty";
  ASSERT_EQ(accepted_.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(peers_[i], SocketAddress::local_of(clients[i].get()));
  EXPECT_FALSE(listener.enabled());
  EXPECT_EQ(listener.accept_pending(10), 0u);
}

TEST_P(ListenerTest, AcceptPendingHandsTheBatchToItsOwnCallback) {
  // reactord's drain serves its last batch apart from the usual clients: the batch goes to the
  // call's callback, not the listener's, which still gets the clients after the batch.
  Listener listener(base_, SocketAddress::ipv4_loopback(0), kLevOptDisabled, -1, keep_fds());
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_to(listener.local_address()));
  std::vector<UniqueFd> batch;
  std::vector<SocketAddress> batch_peers;
  const std::size_t served = listener.accept_pending(2, [&](UniqueFd fd, const SocketAddress& peer) {
    batch_peers.push_back(peer);
    batch.push_back(std::move(fd));
  });
  EXPECT_EQ(served, 2u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch_peers[0], SocketAddress::local_of(clients[0].get()));
  EXPECT_EQ(batch_peers[1], SocketAddress::local_of(clients[1].get()));
  EXPECT_TRUE(accepted_.empty()) << "the listener's own callback saw none of the batch";
  listener.enable();
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 1; }));
  EXPECT_EQ(peers_[0], SocketAddress::local_of(clients[2].get()));
  EXPECT_EQ(batch.size(), 2u) << "the batch's callback is not kept past its call";
}

TEST_P(ListenerTest, AcceptPendingShedsAtEmfileAsAReadinessWould) {
  // Out of fds in the middle of the batch: the client at the head is shed with the spare fd
  // (accepted and closed: it sees EOF, not a hang), the error callback hears EMFILE, and the
  // rest of the batch is served.
  Listener listener(base_, SocketAddress::ipv4_loopback(0), kLevOptDisabled, -1, keep_fds());
  std::vector<int> errors;
  listener.set_error_callback([&](int e) { errors.push_back(e); });
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_to(listener.local_address()));
  FaultInjector faults;
  faults.fail({.calls = kSysAccept4, .error = EMFILE, .nth = 1, .times = 1});
  std::size_t served = 0;
  {
    ScopedSysCalls installed(faults);
    served = listener.accept_pending(3);
  }
  EXPECT_EQ(faults.injected(), 1u);
  EXPECT_EQ(served, 2u);
  EXPECT_EQ(listener.shed_count(), 1u);
  EXPECT_EQ(errors, std::vector<int>{EMFILE});
  ASSERT_EQ(peers_.size(), 2u);
  EXPECT_EQ(peers_[0], SocketAddress::local_of(clients[1].get()));
  EXPECT_EQ(peers_[1], SocketAddress::local_of(clients[2].get()));
  char byte;
  EXPECT_EQ(::recv(clients[0].get(), &byte, 1, 0), 0) << "the shed client sees EOF";
}

TEST_P(ListenerTest, AcceptedSocketsAreNonBlockingUnlessAskedOtherwise) {
  Listener nonblocking(base_, SocketAddress::ipv4_loopback(0), 0, -1, keep_fds());
  Listener blocking(base_, SocketAddress::ipv4_loopback(0), kLevOptLeaveSocketsBlocking, -1, keep_fds());
  UniqueFd a = connect_to(nonblocking.local_address());
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 1; }));
  UniqueFd b = connect_to(blocking.local_address());
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 2; }));
  EXPECT_NE(::fcntl(accepted_[0].get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(::fcntl(accepted_[1].get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(::fcntl(accepted_[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(::fcntl(accepted_[1].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST_P(ListenerTest, BindsIpv6Loopback) {
  std::unique_ptr<Listener> listener;
  try {
    listener = std::make_unique<Listener>(base_, SocketAddress::ipv6_loopback(0), 0, -1, keep_fds());
  } catch (const std::system_error& e) {
    if (e.code().value() == EADDRNOTAVAIL || e.code().value() == EAFNOSUPPORT) {
      GTEST_SKIP() << "::1 unavailable: " << e.what();
    }
    throw;
  }
  const SocketAddress address = listener->local_address();
  EXPECT_TRUE(address.is_ipv6());
  EXPECT_NE(address.port(), 0);
  UniqueFd c = connect_to(address);
  ASSERT_TRUE(c);
  ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 1; }));
  EXPECT_TRUE(peers_[0].is_ipv6());
  EXPECT_EQ(peers_[0], SocketAddress::local_of(c.get()));
}

TEST_P(ListenerTest, WrapsAnExistingListeningFd) {
  UniqueFd raw(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto any = SocketAddress::ipv4_loopback(0);
  ASSERT_EQ(::bind(raw.get(), any.get(), any.length()), 0);
  ASSERT_EQ(::listen(raw.get(), 8), 0);
  const int fd = raw.get();
  {
    Listener borrowed(base_, fd, 0, keep_fds());
    EXPECT_EQ(borrowed.fd(), fd);
    EXPECT_EQ(borrowed.local_address(), SocketAddress::local_of(fd));
    UniqueFd c = connect_to(borrowed.local_address());
    ASSERT_TRUE(run_until(base_, [&] { return accepted_.size() == 1; }));
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);  // not ours: still open
  { Listener owner(base_, raw.release(), kLevOptCloseOnFree, keep_fds()); }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // CLOSE_ON_FREE: closed with the listener
  EXPECT_THROW(Listener(base_, -1, 0, keep_fds()), std::invalid_argument);
}

TEST_P(ListenerTest, ReusePortSharesAPortAndBindErrorsThrowWithTheReason) {
  Listener first(base_, SocketAddress::ipv4_loopback(0), kLevOptReusePort, -1, keep_fds());
  const SocketAddress address = first.local_address();
  Listener second(base_, address, kLevOptReusePort, -1, keep_fds());
  EXPECT_EQ(second.local_address(), address);
  try {
    Listener third(base_, address, 0, -1, keep_fds());
    ADD_FAILURE() << "binding a used port without SO_REUSEPORT succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(e.what()).find(address.to_string()), std::string::npos) << e.what();
  }
}

TEST_P(ListenerTest, AHardAcceptErrorIsReportedWithoutSpinning) {
  // A bound socket that never listens: it polls as hung up, and accept() says EINVAL.
  UniqueFd raw(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto any = SocketAddress::ipv4_loopback(0);
  ASSERT_EQ(::bind(raw.get(), any.get(), any.length()), 0);
  std::vector<int> errors;
  Listener listener(base_, raw.release(), kLevOptCloseOnFree, keep_fds());
  listener.set_error_callback([&](int e) { errors.push_back(e); });
  bool over = false;
  auto window = Event::timer(base_, [&](int, EventFlags) { over = true; });
  window->add(std::chrono::milliseconds(250));
  const std::uint64_t before = base_.stats().iterations;
  run_until(base_, [&] { return over; });
  const std::uint64_t iterations = base_.stats().iterations - before;
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.front(), EINVAL);
  EXPECT_LE(errors.size(), 5u);  // one per 100 ms pause, not one per iteration
  EXPECT_LE(iterations, 20u);
  EXPECT_EQ(listener.error_count(), errors.size());
  EXPECT_TRUE(accepted_.empty());
}

TEST_P(ListenerTest, OwnerTagOnTheAcceptEvent) {
  Listener listener(base_, SocketAddress::ipv4_loopback(0), 0, -1, keep_fds());
  listener.set_owner(5);
  bool found = false;
  for (const auto& e : base_.snapshot()) {
    if (e.label == "listener" && e.owner == 5) {
      found = true;
      EXPECT_EQ(e.fd, listener.fd());
      EXPECT_EQ(e.state, EventState::kPending);
    }
  }
  EXPECT_TRUE(found);
}

REACTORD_BACKEND_SUITE(ListenerTest);

}  // namespace
