// A Connection needs only its ConnectionContext (connection_context.h: configuration, counters,
// side tables, given at construction) and a ConnectionOwner with two methods (closed, state
// changed), not a LoopWorker: here a test owner on a bare EventBase runs one over a real
// loopback TCP socket — it greets, echoes, adds to the counters it was given, and reports its
// close (with the reason and its id) to the owner, which then destroys it outside the
// connection's callbacks.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/event_base.h"
#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/connection_owner.h"
#include "server/connection_side_tables.h"
#include "server/loop_counters.h"
#include "support/loop.h"

namespace reactord {
namespace {

// The owner of loop 3: it hears closes and state changes, and holds what its connections are
// built with (their context).
class TestOwner final : public ConnectionOwner {
 public:
  explicit TestOwner(const Config& config)
      : context{.loop_index = 3,
                .config = config,
                .counters = counters_,
                .idle = nullptr,
                .listen_address = listen_,
                .side_tables = side_tables_,
                .owner = *this} {}
  void on_connection_closed(Connection& connection, CloseReason reason) override {
    closed.push_back({connection.id(), reason});
  }
  void on_connection_state_changed(Connection&) override { ++state_changes; }

  struct Closed {
    std::uint64_t id;
    CloseReason reason;
  };
  std::vector<Closed> closed;
  int state_changes = 0;
  LoopCounters counters_;

 private:
  reactor::SocketAddress listen_;
  ConnectionSideTables side_tables_;

 public:
  ConnectionContext context;  // after what it refers to
};

// A connected loopback TCP pair: (client, server side).
std::pair<reactor::UniqueFd, reactor::UniqueFd> tcp_pair() {
  reactor::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::listen(listener.get(), 1), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  reactor::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  reactor::UniqueFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  return {std::move(client), std::move(server)};
}

// What the client has received so far (non-blocking reads).
std::string drain(int fd, std::string& got) {
  char buf[256];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

TEST(ConnectionOwner, AConnectionGreetsEchoesAndReportsItsCloseToItsOwner) {
  Config config;
  TestOwner owner(config);
  reactor::EventBase base;
  // Not a structured binding: clang 14 (the fuzz preset) cannot capture one in a lambda.
  auto fds = tcp_pair();
  reactor::UniqueFd client = std::move(fds.first);
  reactor::UniqueFd server_side = std::move(fds.second);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(server_side.valid());
  auto peer = reactor::SocketAddress::local_of(client.get());
  auto conn = std::make_unique<Connection>(owner.context, base, 42, std::move(server_side), peer);
  conn->start();

  std::string got;
  ASSERT_TRUE(test_support::run_until(base, [&] { return drain(client.get(), got) == config.greeting; }));
  ASSERT_EQ(::send(client.get(), "ping\n", 5, 0), 5);
  ASSERT_TRUE(
      test_support::run_until(base, [&] { return drain(client.get(), got) == config.greeting + "ping\n"; }));
  EXPECT_TRUE(owner.closed.empty());

  client.reset();  // the client leaves
  ASSERT_TRUE(test_support::run_until(base, [&] { return !owner.closed.empty(); }));
  ASSERT_EQ(owner.closed.size(), 1u);
  EXPECT_EQ(owner.closed[0].id, 42u);
  EXPECT_EQ(owner.closed[0].reason, CloseReason::kPeerEof);
  EXPECT_EQ(owner.counters_.bytes_out.get(), config.greeting.size() + 5)
      << "written bytes counted in the owner's counters";
  EXPECT_EQ(conn->record().loop, 3u) << "the record names the owner's loop";
  conn.reset();  // outside its callbacks, as LoopWorker's defer_delete does
  EXPECT_EQ(test_support::left_registered(base), "");
}

// A Connection finds its context through its base (EventBase::user_data, 8 bytes less per
// connection than a reference): two connections on one base both report to that base's owner
// and counters, and a Connection with another context on the same base is refused.
TEST(ConnectionOwner, ConnectionsOnOneBaseShareItsContextAndAnotherContextIsRefused) {
  Config config;
  TestOwner owner(config);
  TestOwner other(config);
  reactor::EventBase base;
  auto first = tcp_pair();
  auto second = tcp_pair();
  auto third = tcp_pair();
  ASSERT_TRUE(first.second.valid() && second.second.valid() && third.second.valid());
  const auto peer = reactor::SocketAddress::local_of(first.first.get());
  auto a = std::make_unique<Connection>(owner.context, base, 1, std::move(first.second), peer);
  auto b = std::make_unique<Connection>(owner.context, base, 2, std::move(second.second), peer);
  EXPECT_EQ(base.user_data(), &owner.context);
  EXPECT_THROW(Connection(other.context, base, 3, std::move(third.second), peer), std::logic_error);
  EXPECT_EQ(base.user_data(), &owner.context) << "the refused one changed nothing";
  a->start();
  b->start();
  reactor::UniqueFd client_a = std::move(first.first);
  reactor::UniqueFd client_b = std::move(second.first);
  std::string got_a;
  std::string got_b;
  ASSERT_EQ(::send(client_a.get(), "a\n", 2, 0), 2);
  ASSERT_EQ(::send(client_b.get(), "bb\n", 3, 0), 3);
  ASSERT_TRUE(test_support::run_until(base, [&] {
    return drain(client_a.get(), got_a) == config.greeting + "a\n" &&
           drain(client_b.get(), got_b) == config.greeting + "bb\n";
  }));
  EXPECT_EQ(owner.counters_.bytes_in.get(), 5u);
  EXPECT_EQ(owner.counters_.bytes_out.get(), 2 * config.greeting.size() + 5);
  EXPECT_EQ(other.counters_.bytes_out.get(), 0u);
  EXPECT_EQ(a->record().loop, 3u);
  client_a.reset();
  ASSERT_TRUE(test_support::run_until(base, [&] { return !owner.closed.empty(); }));
  EXPECT_EQ(owner.closed[0].id, 1u);
  EXPECT_TRUE(other.closed.empty());
  a.reset();
  b.reset();
  EXPECT_EQ(test_support::left_registered(base), "");
}

}  // namespace
}  // namespace reactord
