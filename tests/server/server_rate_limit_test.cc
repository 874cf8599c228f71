// --rate-limit-per-connection / --rate-limit-total over real sockets, in-process server.
//
// Rates are measured from the server's own byte counters (the connection records) and the
// test's own steady-clock timestamps over windows of a few seconds, at rates low enough
// (tens to hundreds of KiB/s) that a loaded 2-core machine cannot push a saturated client
// under them. The limiter exceeding rate + burst is a strict failure; the lower bounds carry
// the tolerances of the issue (±10 % for one client, ±25 % of the fair share in a group).
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
using test::on_loop;

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

struct Sample {
  std::chrono::steady_clock::time_point at;
  std::vector<std::uint64_t> bytes_in;  // per connection, id order
  std::vector<ConnectionRecord> records;
};

Sample sample(Server& server) {
  Sample s;
  s.records = on_loop(server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  s.at = std::chrono::steady_clock::now();
  for (const auto& r : s.records) s.bytes_in.push_back(r.bytes_in);
  return s;
}

std::vector<reactor::UniqueFd> connect_many(test::RunningServer& rs, int n) {
  std::vector<reactor::UniqueFd> fds;
  for (int i = 0; i < n; ++i) {
    fds.push_back(rs.connect_greeted());
    // Non-blocking from here: the blaster thread must never stall on one socket.
    ::fcntl(fds.back().get(), F_SETFL, O_NONBLOCK);
  }
  EXPECT_TRUE(test::eventually([&] { return rs.server.open_connections() == static_cast<std::size_t>(n); }));
  return fds;
}

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

TEST(ServerRateLimit, OneClientMovesAtItsConfiguredRate) {
  constexpr std::uint64_t kRate = 256 * 1024;
  Config config = test::test_config();
  config.rate_limit_per_connection = units::Rate{kRate, kRate / 4};
  test::RunningServer rs(config);
  Blasters blaster(connect_many(rs, 1));
  std::this_thread::sleep_for(500ms);  // past the first tick's allowance and any start-up
  const Sample a = sample(rs.server);
  std::this_thread::sleep_for(4s);
  const Sample b = sample(rs.server);
  blaster.stop();
  ASSERT_EQ(a.records.size(), 1u);
  ASSERT_EQ(b.records.size(), 1u);
  const double elapsed = seconds(b.at - a.at);
  const auto moved = static_cast<double>(b.bytes_in[0] - a.bytes_in[0]);
  // Strict: never above rate × time + burst (plus one tick for the sampling's own latency).
  EXPECT_LE(moved, kRate * (elapsed + 0.1) + kRate / 4.0);
  EXPECT_NEAR(moved / elapsed, static_cast<double>(kRate), kRate * 0.10)
      << "measured " << moved / elapsed << " B/s over " << elapsed << " s";
  // The record shows the limit and the time spent held back.
  const ConnectionRecord& r = b.records[0];
  ASSERT_TRUE(r.rate_limit_bytes_per_second.has_value());
  EXPECT_EQ(*r.rate_limit_bytes_per_second, kRate);
  EXPECT_EQ(r.rate_limit_burst, kRate / 4);
  EXPECT_FALSE(r.rate_limit_total);
  EXPECT_GT(r.throttled_time, 1s) << "a saturated client spends most of its time throttled";
  EXPECT_GT(r.bytes_delayed, 0u);
  EXPECT_LE(r.bytes_out, r.bytes_in) << "the echo is limited too";
}

TEST(ServerRateLimit, TwentyClientsShareTheTotalFairly) {
  constexpr std::uint64_t kTotal = 512 * 1024;
  constexpr int kClients = 20;
  Config config = test::test_config();
  config.rate_limit_total = units::Rate{kTotal, kTotal / 4};
  test::RunningServer rs(config);
  Blasters blasters(connect_many(rs, kClients));
  std::this_thread::sleep_for(500ms);
  const Sample a = sample(rs.server);
  std::this_thread::sleep_for(5s);
  const Sample b = sample(rs.server);
  blasters.stop();
  ASSERT_EQ(a.records.size(), static_cast<std::size_t>(kClients));
  ASSERT_EQ(b.records.size(), static_cast<std::size_t>(kClients));
  const double elapsed = seconds(b.at - a.at);
  double total = 0;
  for (int i = 0; i < kClients; ++i) total += static_cast<double>(b.bytes_in[i] - a.bytes_in[i]);
  // Strict upper bound: rate × time + burst, plus min share per member and one tick of slack.
  EXPECT_LE(total, kTotal * (elapsed + 0.1) + kTotal / 4.0 + kClients * 64.0);
  EXPECT_NEAR(total / elapsed, static_cast<double>(kTotal), kTotal * 0.10) << "the group as a whole";
  const double fair = static_cast<double>(kTotal) / kClients;
  for (int i = 0; i < kClients; ++i) {
    const double rate = static_cast<double>(b.bytes_in[i] - a.bytes_in[i]) / elapsed;
    EXPECT_NEAR(rate, fair, fair * 0.25) << "client " << i << " of " << kClients;
    EXPECT_TRUE(b.records[i].rate_limit_total);
    EXPECT_FALSE(b.records[i].rate_limit_bytes_per_second.has_value());
  }
}

TEST(ServerRateLimit, TheTotalIsSplitAcrossLoopsAndNeverExceeded) {
  constexpr std::uint64_t kTotal = 256 * 1024;
  Config config = test::test_config();
  config.loops = 2;
  config.accept_mode = AcceptMode::kSingle;  // round-robin: both loops get clients
  config.rate_limit_total = units::Rate{kTotal, kTotal / 4};
  test::RunningServer rs(config);
  Blasters blasters(connect_many(rs, 6));
  auto both = [&] {
    std::vector<std::uint64_t> sums;
    for (std::size_t l = 0; l < 2; ++l) {
      sums.push_back(on_loop(rs.server, l, [](LoopWorker& w) {
        std::uint64_t n = 0;
        for (const auto& r : w.registry().snapshot()) n += r.bytes_in;
        return n;
      }));
    }
    return std::make_pair(std::chrono::steady_clock::now(), sums);
  };
  std::this_thread::sleep_for(500ms);
  const auto a = both();
  std::this_thread::sleep_for(4s);
  const auto b = both();
  blasters.stop();
  const double elapsed = seconds(b.first - a.first);
  double total = 0;
  for (std::size_t l = 0; l < 2; ++l) {
    const auto moved = static_cast<double>(b.second[l] - a.second[l]);
    // Each loop's group holds half the total.
    EXPECT_LE(moved, kTotal / 2.0 * (elapsed + 0.1) + kTotal / 8.0 + 3 * 64.0) << "loop " << l;
    total += moved;
  }
  EXPECT_NEAR(total / elapsed, static_cast<double>(kTotal), kTotal * 0.10);
}

TEST(ServerRateLimit, ALimitedClientNeverDelaysAnUnlimitedOne) {
  constexpr std::uint64_t kRate = 64 * 1024;
  Config config = test::test_config();
  config.rate_limit_per_connection = units::Rate{kRate, kRate};
  test::RunningServer rs(config);
  reactor::UniqueFd free_client = rs.connect_greeted();
  ASSERT_TRUE(test::eventually([&] { return rs.server.open_connections() == 1; }));
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
  ASSERT_TRUE(test::eventually([&] {
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
  std::thread reader([&] { echoed = test::read_exactly(free_client.get(), data.size(), 60000ms); });
  EXPECT_TRUE(test::write_all(free_client.get(), data, 60000ms));
  reader.join();
  EXPECT_TRUE(echoed == data) << "byte-exact echo (" << echoed.size() << " of " << data.size() << " bytes)";
  const auto first =
      on_loop(rs.server, 0, [](LoopWorker& w) { return *w.registry().record(w.registry().ids().front()); });
  EXPECT_FALSE(first.rate_limit_bytes_per_second.has_value());
  EXPECT_EQ(first.throttled_time, reactor::Duration::zero());
}

}  // namespace
}  // namespace reactord
