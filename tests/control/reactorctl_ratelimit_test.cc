// Rate limits changed at run time through reactorctl, as a person types it, against a real
// reactord process: the measured rate follows the new limit (the server's own byte counters
// and its age from `reactorctl --json conn`, windows of seconds at tens of KiB/s), GetConnection shows the
// limit and the time throttled, `info` the totals, bad values are refused, and every call is audited.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "reactor/unique_fd.h"
#include "reactord_process.h"

namespace reactord::test_support {
namespace {

using namespace std::chrono_literals;

// One client that sends as fast as the server takes and discards its echo, on its own thread.
class Blaster {
 public:
  explicit Blaster(std::uint16_t port) {
    fd_ = reactor::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
    ::fcntl(fd_.get(), F_SETFL, O_NONBLOCK);
    thread_ = std::thread([this] { run(); });
  }
  ~Blaster() {
    stop_.store(true);
    thread_.join();
  }
  bool connected() const { return connected_; }

 private:
  void run() {
    const std::string chunk(16 * 1024, 'x');
    char buf[64 * 1024];
    pollfd p{fd_.get(), POLLIN | POLLOUT, 0};
    const auto give_up = std::chrono::steady_clock::now() + 5min;
    while (!stop_.load() && std::chrono::steady_clock::now() < give_up) {
      if (::poll(&p, 1, 20) <= 0) continue;
      if (p.revents & POLLIN) {
        while (::recv(p.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {}
      }
      if (p.revents & POLLOUT) ::send(p.fd, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (p.revents & (POLLERR | POLLHUP)) return;
    }
  }
  reactor::UniqueFd fd_;
  bool connected_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Reading {
  v1::Connection conn;
};

Reading read_conn(Reactord& d, const std::string& id) {
  auto r = d.ctl({"--json", "conn", id});
  Reading out;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  out.conn = parse_json<v1::Connection>(r.out);
  return out;
}

// Bytes/s read by the server from the client over `window`: its own byte counter over its
// own clock (the connection's age in each reading). The test's timestamps would add the time
// reactorctl takes to start and connect, which differs between two calls by hundreds of
// milliseconds on a loaded machine (a 4 s window once measured 41 KiB/s of a 64 KiB/s limit).
double measure(Reactord& d, const std::string& id, std::chrono::seconds window) {
  const Reading a = read_conn(d, id);
  std::this_thread::sleep_for(window);
  const Reading b = read_conn(d, id);
  const double elapsed = static_cast<double>(b.conn.age_ms() - a.conn.age_ms()) / 1000.0;
  EXPECT_GT(elapsed, 0.5 * std::chrono::duration<double>(window).count())
      << "the server's clock between readings";
  return static_cast<double>(b.conn.bytes_in() - a.conn.bytes_in()) / elapsed;
}

TEST(ReactorctlRateLimit, ChangesAClientsRateAtRunTime) {
  constexpr double kStart = 64 * 1024;
  constexpr double kRaised = 192 * 1024;
  const std::string audit_log = temp_file("");
  Reactord d({"--rate-limit-per-connection", "64KiB", "--audit-log", audit_log});
  ASSERT_FALSE(d.control.empty()) << d.process->log();
  Blaster client(d.data_port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(d.wait_connections(1));
  auto list = parse_json<v1::ListConnectionsResponse>(d.ctl({"--json", "conns"}).out);
  ASSERT_EQ(list.connections_size(), 1);
  const std::string id = std::to_string(list.connections(0).id());
  EXPECT_EQ(list.connections(0).rate_limit().bytes_per_second(), 64u * 1024) << "ListConnections shows it";

  std::this_thread::sleep_for(500ms);
  const double before = measure(d, id, 4s);
  EXPECT_NEAR(before, kStart, kStart * 0.10) << "the --rate-limit-per-connection rate";
  EXPECT_LE(before, kStart * 1.10);

  auto raise = d.ctl({"ratelimit", "192KiB", id});
  ASSERT_EQ(raise.exit_code, 0) << raise.err;
  EXPECT_NE(raise.out.find("set on 1 connection(s)"), std::string::npos) << raise.out;
  std::this_thread::sleep_for(500ms);
  const double after = measure(d, id, 4s);
  EXPECT_NEAR(after, kRaised, kRaised * 0.10) << "the rate set through reactorctl";

  const Reading r = read_conn(d, id);
  EXPECT_EQ(r.conn.rate_limit().bytes_per_second(), 192u * 1024);
  EXPECT_EQ(r.conn.rate_limit().burst(), 192u * 1024);
  EXPECT_GT(r.conn.throttled_ms(), 1000) << "a saturated client spends most of its time throttled";
  EXPECT_GT(r.conn.bytes_delayed(), 0u);
  EXPECT_FALSE(r.conn.rate_limit_total());
  auto text = d.ctl({"conn", id});
  EXPECT_NE(text.out.find("rate limit:   192KiB/s"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("bytes delayed"), std::string::npos) << text.out;

  // Removing it: the client is no longer held back (far above the old limit).
  ASSERT_EQ(d.ctl({"ratelimit", "off", id}).exit_code, 0);
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(measure(d, id, 2s), kRaised * 2) << "unlimited";
  EXPECT_FALSE(read_conn(d, id).conn.has_rate_limit());

  // The listener-wide total and the default for new clients, shown by `info`.
  auto total = d.ctl({"ratelimit", "1M,2M", "--total"});
  ASSERT_EQ(total.exit_code, 0) << total.err;
  EXPECT_NE(total.out.find("total 1MiB,2MiB/s"), std::string::npos) << total.out;
  ASSERT_EQ(d.ctl({"ratelimit", "off", "--new"}).exit_code, 0);
  auto info = parse_json<v1::ServerInfo>(d.ctl({"--json", "info"}).out);
  EXPECT_EQ(info.limits().at("rate_limit_total_bytes_per_second"), 1 << 20);
  EXPECT_EQ(info.limits().at("rate_limit_total_burst"), 2 << 20);
  EXPECT_EQ(info.limits().count("rate_limit_per_connection_bytes_per_second"), 0u);
  EXPECT_TRUE(read_conn(d, id).conn.rate_limit_total()) << "existing clients join the total";

  // Mistakes: usage errors (exit 2) naming what is wrong, unknown ids NOT_FOUND.
  auto tiny = d.ctl({"ratelimit", "5", "--total"});
  EXPECT_EQ(tiny.exit_code, 2);
  EXPECT_NE(tiny.err.find("at least 10"), std::string::npos) << tiny.err;
  auto no_target = d.ctl({"ratelimit", "1M"});
  EXPECT_EQ(no_target.exit_code, 2);
  EXPECT_NE(no_target.err.find("--total"), std::string::npos) << no_target.err;
  auto both = d.ctl({"ratelimit", "1M", "--total", id});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  auto missing = d.ctl({"ratelimit", "1M", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;

  // Audited: one line per call, with the target and the limit.
  auto audit = [&] {
    std::ifstream in(audit_log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_TRUE(eventually([&] {
    const std::string written = audit();
    return written.find("rpc=SetRateLimit status=OK") != std::string::npos &&
           written.find("target=total limit=1MiB,2MiB") != std::string::npos &&
           written.find("rpc=SetRateLimit status=NOT_FOUND") != std::string::npos;
  })) << audit();
}

}  // namespace
}  // namespace reactord::test_support
