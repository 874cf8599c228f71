// --rate-limit-per-connection / --rate-limit-total over real sockets, in-process server.
//
// Rates are counted from the server's own byte counters in ticks of a manual clock installed
// on the loops (tests/support/manual_clock.h), not measured against the wall clock: a loaded
// machine (CI's, or this one at load 20) made a sleep-and-measure test miss its lower bound.
// A single bucket must move exactly its rate per tick; a group its rate within its members'
// min-share debt, each member within ±25 % of the fair share (the tolerance).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/connection.h"
#include "server/rate_limits.h"
#include "server_fixture.h"

namespace reactord {
namespace {

using namespace std::chrono_literals;
using test_support::on_loop;

// Clients that send as fast as the server takes and read their echoes, on one thread.
class Blasters {
 public:
  explicit Blasters(std::vector<reactor::UniqueFd> fds) : fds_(std::move(fds)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Blasters() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    const std::string chunk(16 * 1024, 'b');
    char buf[64 * 1024];
    std::vector<pollfd> pfds;
    for (auto& fd : fds_) pfds.push_back({fd.get(), POLLIN | POLLOUT, 0});
    // Bounded: stop() ends it; 5 minutes at most whatever happens.
    const auto give_up = std::chrono::steady_clock::now() + 5min;
    while (!stop_.load() && std::chrono::steady_clock::now() < give_up) {
      if (::poll(pfds.data(), pfds.size(), 20) <= 0) continue;
      for (auto& p : pfds) {
        if (p.revents & POLLIN) {
          while (::recv(p.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {}
        }
        if (p.revents & POLLOUT) ::send(p.fd, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
    }
  }

  std::vector<reactor::UniqueFd> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One connection as its loop sees it between two ticks.
struct Member {
  std::uint64_t bytes_in = 0;
  bool read_throttled = false;
};

// Every connection of loop `index`, in id order.
std::vector<Member> members(Server& server, std::size_t index) {
  return on_loop(server, index, [](LoopWorker& w) {
    std::vector<Member> out;
    for (const auto& r : w.registry().snapshot()) {
      const Connection* c = w.registry().find(r.id);
      out.push_back({r.bytes_in, c != nullptr && c->buffer_event().read_throttled()});
    }
    return out;
  });
}

std::uint64_t total_in(const std::vector<Member>& ms) {
  std::uint64_t n = 0;
  for (const auto& m : ms) n += m.bytes_in;
  return n;
}

// The loop has spent the tick it was given: every connection's read is held back by its
// bucket again, after it moved bytes (the clients always have more queued). While the test
// waits here the loop's clock stands still, so a slow machine delays the answer but cannot
// change it.
std::vector<Member> wait_for_spent_tick(Server& server, std::size_t loop, std::uint64_t before) {
  std::vector<Member> now;
  EXPECT_TRUE(test_support::eventually(
      [&] {
        now = members(server, loop);
        bool all_held = !now.empty();
        for (const auto& m : now) all_held = all_held && m.read_throttled;
        return all_held && total_in(now) > before;
      },
      60s))
      << "loop " << loop << " did not spend its tick: " << total_in(now) - before << " bytes moved";
  return now;
}

std::vector<reactor::UniqueFd> connect_many(test_support::RunningServer& rs, int n) {
  std::vector<reactor::UniqueFd> fds;
  for (int i = 0; i < n; ++i) {
    fds.push_back(rs.connect_greeted());
    // Non-blocking from here: the blaster thread must never stall on one socket.
    ::fcntl(fds.back().get(), F_SETFL, O_NONBLOCK);
  }
  EXPECT_TRUE(
      test_support::eventually([&] { return rs.server.open_connections() == static_cast<std::size_t>(n); }));
  return fds;
}

// The rates are asserted in ticks of the loop's manual clock: the test gives the loop one
// tick, waits until the loop has spent it, and gives the next. A single bucket then moves
// exactly its rate per tick; a group, its rate give or take the min-share debt of its members.

TEST(ServerRateLimit, OneClientMovesAtItsConfiguredRate) {
  constexpr std::uint64_t kRate = 256 * 1024;  // 8 ticks a second of 32 KiB (rate_limits.cc)
  constexpr std::uint64_t kPerTick = kRate / 8;
  constexpr auto kTick = 125ms;
  constexpr int kTicks = 32;  // 4 seconds of the loop's time
  test_support::ManualClock clock;
  Config config = test_support::test_config();
  config.rate_limit_per_connection = units::Rate{kRate, kRate / 4};
  test_support::RunningServer rs(config);
  test_support::install_clock(rs.server, 1, clock);
  Blasters blaster(connect_many(rs, 1));
  // The first tick's allowance (one tick's worth), spent.
  const std::uint64_t first = total_in(wait_for_spent_tick(rs.server, 0, 0));
  EXPECT_EQ(first, kPerTick) << "a bucket starts with one tick's worth";
  std::uint64_t moved = first;
  for (int t = 0; t < kTicks; ++t) {
    clock.advance(kTick);
    moved = total_in(wait_for_spent_tick(rs.server, 0, moved));
    ASSERT_EQ(moved - first, (t + 1) * kPerTick) << "tick " << t;
  }
  blaster.stop();
  // The record shows the limit and the time spent held back: every tick, whole.
  const auto records = on_loop(rs.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  ASSERT_EQ(records.size(), 1u);
  const ConnectionRecord& r = records[0];
  EXPECT_EQ(r.bytes_in, moved);
  ASSERT_TRUE(r.rate_limit_bytes_per_second.has_value());
  EXPECT_EQ(*r.rate_limit_bytes_per_second, kRate);
  EXPECT_EQ(r.rate_limit_burst, kRate / 4);
  EXPECT_FALSE(r.rate_limit_total);
  EXPECT_GE(r.throttled_time, kTicks * kTick) << "a saturated client is held back between ticks";
  EXPECT_GT(r.bytes_delayed, 0u);
  EXPECT_LE(r.bytes_out, r.bytes_in) << "the echo is limited too";
}

TEST(ServerRateLimit, TwentyClientsShareTheTotalFairly) {
  constexpr std::uint64_t kTotal = 512 * 1024;  // 8 ticks a second of 64 KiB
  constexpr std::uint64_t kPerTick = kTotal / 8;
  constexpr int kClients = 20;
  constexpr int kTicks = 40;
  constexpr double kDebt = kClients * 64.0;  // each member may take its min share on credit
  test_support::ManualClock clock;
  Config config = test_support::test_config();
  config.rate_limit_total = units::Rate{kTotal, kTotal / 4};
  test_support::RunningServer rs(config);
  test_support::install_clock(rs.server, 1, clock);
  Blasters blasters(connect_many(rs, kClients));
  const std::vector<Member> a = wait_for_spent_tick(rs.server, 0, 0);
  std::vector<Member> b = a;
  for (int t = 0; t < kTicks; ++t) {
    clock.advance(125ms);
    b = wait_for_spent_tick(rs.server, 0, total_in(b));
  }
  blasters.stop();
  ASSERT_EQ(a.size(), static_cast<std::size_t>(kClients));
  ASSERT_EQ(b.size(), static_cast<std::size_t>(kClients));
  const auto total = static_cast<double>(total_in(b) - total_in(a));
  EXPECT_NEAR(total, static_cast<double>(kTicks * kPerTick), kDebt) << "the group as a whole";
  const double fair = static_cast<double>(kTicks * kPerTick) / kClients;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_NEAR(static_cast<double>(b[i].bytes_in - a[i].bytes_in), fair, fair * 0.25)
        << "client " << i << " of " << kClients;
  }
  const auto records = on_loop(rs.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  for (const auto& r : records) {
    EXPECT_TRUE(r.rate_limit_total);
    EXPECT_FALSE(r.rate_limit_bytes_per_second.has_value());
  }
}

TEST(ServerRateLimit, TheTotalIsSplitAcrossLoopsAndNeverExceeded) {
  constexpr std::uint64_t kTotal = 256 * 1024;  // each loop: half, 8 ticks a second of 16 KiB
  constexpr std::uint64_t kPerTickPerLoop = kTotal / 2 / 8;
  constexpr int kTicks = 32;
  test_support::ManualClock clock;
  Config config = test_support::test_config();
  config.loops = 2;
  config.accept_mode = AcceptMode::kSingle;  // round-robin: both loops get clients
  config.rate_limit_total = units::Rate{kTotal, kTotal / 4};
  test_support::RunningServer rs(config);
  test_support::install_clock(rs.server, 2, clock);
  Blasters blasters(connect_many(rs, 6));
  std::vector<std::uint64_t> a, b;
  for (std::size_t l = 0; l < 2; ++l) {
    const auto ms = wait_for_spent_tick(rs.server, l, 0);
    EXPECT_EQ(ms.size(), 3u) << "round-robin: three clients on loop " << l;
    a.push_back(total_in(ms));
  }
  b = a;
  for (int t = 0; t < kTicks; ++t) {
    clock.advance(125ms);
    for (std::size_t l = 0; l < 2; ++l) b[l] = total_in(wait_for_spent_tick(rs.server, l, b[l]));
  }
  blasters.stop();
  for (std::size_t l = 0; l < 2; ++l) {
    // Each loop's group holds half the total: its rate per tick, give or take its three
    // members' min-share debt.
    EXPECT_NEAR(static_cast<double>(b[l] - a[l]), static_cast<double>(kTicks * kPerTickPerLoop), 3 * 64.0)
        << "loop " << l;
  }
}

TEST(ServerRateLimit, ALimitedClientNeverDelaysAnUnlimitedOne) {
  constexpr std::uint64_t kRate = 64 * 1024;
  Config config = test_support::test_config();
  config.rate_limit_per_connection = units::Rate{kRate, kRate};
  test_support::RunningServer rs(config);
  reactor::UniqueFd free_client = rs.connect_greeted();
  ASSERT_TRUE(test_support::eventually([&] { return rs.server.open_connections() == 1; }));
  // Lift the first client's limit on its loop (what SetRateLimit does for one id).
  const bool lifted = on_loop(rs.server, 0, [](LoopWorker& w) {
    Connection* c = w.registry().find(w.registry().ids().front());
    return c != nullptr && c->buffer_event().set_rate_limit(std::nullopt);
  });
  ASSERT_TRUE(lifted);
  std::vector<reactor::UniqueFd> limited;
  for (int i = 0; i < 20; ++i) {
    limited.push_back(rs.connect_greeted());
    ::fcntl(limited.back().get(), F_SETFL, O_NONBLOCK);
  }
  Blasters blasters(std::move(limited));
  ASSERT_TRUE(test_support::eventually([&] {
    auto records = on_loop(rs.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
    int throttled = 0;
    for (const auto& r : records) throttled += r.throttled;
    return records.size() == 21 && throttled >= 15;
  })) << "the 20 limited clients are held back";

  // 8 MiB byte-exact through the unlimited client: at the limit it would take 128 s; the
  // bounded waits of write_all / read_exactly (60 s) pass only if it is not held back.
  std::string data(8 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) >> 3);
  std::string echoed;
  std::thread reader([&] { echoed = test_support::read_exactly(free_client.get(), data.size(), 60000ms); });
  EXPECT_TRUE(test_support::write_all(free_client.get(), data, 60000ms));
  reader.join();
  EXPECT_TRUE(echoed == data) << "byte-exact echo (" << echoed.size() << " of " << data.size() << " bytes)";
  const auto first =
      on_loop(rs.server, 0, [](LoopWorker& w) { return *w.registry().record(w.registry().ids().front()); });
  EXPECT_FALSE(first.rate_limit_bytes_per_second.has_value());
  EXPECT_EQ(first.throttled_time, reactor::Duration::zero());
}

}  // namespace
}  // namespace reactord
