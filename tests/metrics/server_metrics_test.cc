// reactord's metrics over HTTP after real traffic: an in-process Server with the
// MetricsComponent, clients on loopback, and exact values read back from the scrape.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "scrape.h"
#include "server/metrics/control_metrics.h"
#include "server/metrics/metrics_component.h"
#include "server/server.h"
#include "support/taken_port.h"
#include "support/tcp_client.h"

namespace reactord::metrics {
namespace {

using test_support::find_value;
using test_support::Sample;
using test_support::TcpClient;

Config test_config() {
  Config config;
  config.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  config.metrics_listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  config.control.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  config.log_level = LogLevel::kWarn;
  return config;
}

// A started Server with a MetricsComponent; stopped (and waited for) on destruction.
class RunningServer {
 public:
  explicit RunningServer(Config config, std::shared_ptr<ControlMetrics> control = nullptr)
      : server_(std::move(config)) {
    auto component = std::make_unique<MetricsComponent>(std::move(control));
    metrics_ = component.get();
    server_.add_component(std::move(component));
    server_.start();
  }
  ~RunningServer() {
    server_.stop();
    server_.wait();
  }
  Server& server() { return server_; }
  std::uint16_t port() { return server_.listen_address().port(); }
  int metrics_port() const { return metrics_->port(); }

  std::vector<Sample> scrape() {
    auto response = test_support::http_get(metrics_port());
    EXPECT_EQ(response.status, 200);
    return test_support::parse_exposition(response.body);
  }
  // Scrapes until `done` holds (the loops count on their own threads, a moment after the
  // client saw the effect), at most 5 s. Returns the last scrape.
  std::vector<Sample> scrape_until(const std::function<bool(const std::vector<Sample>&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      auto samples = scrape();
      if (done(samples) || std::chrono::steady_clock::now() > deadline) return samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::vector<Sample> scrape_until_value(const std::string& name,
                                         const std::map<std::string, std::string>& labels, double expected) {
    return scrape_until([&](const std::vector<Sample>& s) {
      return find_value(s, name, labels) == std::optional<double>(expected);
    });
  }

 private:
  Server server_;
  MetricsComponent* metrics_ = nullptr;
};

std::string greeting() { return Config().greeting; }

TEST(ServerMetricsTest, CountsConnectionsAndBytesExactly) {
  Config config = test_config();
  config.loops = 2;
  config.max_connections = 3;
  auto control = std::make_shared<ControlMetrics>();
  RunningServer rs(config, control);
  ASSERT_GT(rs.metrics_port(), 0);

  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<TcpClient>(rs.port()));
    EXPECT_EQ(clients.back()->read_exactly(greeting().size()), greeting());
  }
  const std::string payload(1000, 'x');
  for (auto& c : clients) {
    c->send_all(payload);
    EXPECT_EQ(c->read_exactly(payload.size()), payload);
  }
  const double sent = 3.0 * (greeting().size() + payload.size());
  auto samples = rs.scrape_until_value("reactord_sent_bytes_total", {}, sent);
  EXPECT_EQ(find_value(samples, "reactord_connections_active"), 3.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_accepted_total"), 3.0);
  EXPECT_EQ(find_value(samples, "reactord_received_bytes_total"), 3000.0);
  EXPECT_EQ(find_value(samples, "reactord_sent_bytes_total"), sent);
  EXPECT_EQ(find_value(samples, "reactord_output_buffered_bytes"), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_backpressure_pauses_total"), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_rejected_total", {{"reason", "limit"}}), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_accepting"), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_draining"), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_accept_errors_total", {{"errno", "EMFILE"}}), 0.0);

  // A fourth client is over --max-connections: turned away and counted with its reason.
  TcpClient extra(rs.port());
  EXPECT_TRUE(extra.closed_without_data());
  samples = rs.scrape_until_value("reactord_connections_rejected_total", {{"reason", "limit"}}, 1);
  EXPECT_EQ(find_value(samples, "reactord_connections_rejected_total", {{"reason", "limit"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_rejected_total", {{"reason", "draining"}}), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_active"), 3.0);

  // One client leaves: closed by peer_eof, its lifetime in the duration histogram.
  clients[0]->close();
  samples = rs.scrape_until_value("reactord_connections_closed_total", {{"reason", "peer_eof"}}, 1);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "peer_eof"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_active"), 2.0);
  EXPECT_EQ(find_value(samples, "reactord_connection_duration_seconds_count"), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connection_duration_seconds_bucket", {{"le", "+Inf"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connection_duration_seconds_bucket", {{"le", "3600"}}), 1.0);
  EXPECT_GT(*find_value(samples, "reactord_connection_duration_seconds_sum"), 0.0);

  // The control plane's records are served by the same endpoint.
  control->record("reactord.v1.Control", "GetStats", "OK", 0.01);
  samples = rs.scrape();
  EXPECT_EQ(find_value(samples, "reactord_control_requests_total",
                       {{"service", "reactord.v1.Control"}, {"method", "GetStats"}, {"code", "OK"}}),
            1.0);
  EXPECT_EQ(find_value(samples, "reactord_build_info"), 1.0);
  EXPECT_GT(*find_value(samples, "process_open_fds"), 5.0);
}

TEST(ServerMetricsTest, CountsEveryCloseReason) {
  Config config = test_config();
  config.idle_timeout = std::chrono::milliseconds(600);
  RunningServer rs(config);

  TcpClient idle(rs.port());
  EXPECT_EQ(idle.read_exactly(greeting().size()), greeting());
  {
    TcpClient leaves(rs.port());
    EXPECT_EQ(leaves.read_exactly(greeting().size()), greeting());
    leaves.close();
    TcpClient resets(rs.port());
    EXPECT_EQ(resets.read_exactly(greeting().size()), greeting());
    resets.reset();
  }
  TcpClient closed_by_admin(rs.port());
  EXPECT_EQ(closed_by_admin.read_exactly(greeting().size()), greeting());
  rs.scrape_until_value("reactord_connections_active", {}, 2);  // idle + admin's
  // The operator closes every connection but the idle one (the control plane does this).
  LoopWorker& loop = rs.server().loop(0);
  loop.post([&loop] {
    auto ids = loop.registry().ids();
    std::uint64_t oldest = *std::min_element(ids.begin(), ids.end());
    for (auto id : ids) {
      if (id != oldest) loop.close_connection(id, CloseReason::kAdmin);
    }
  });
  EXPECT_TRUE(closed_by_admin.closed_without_data());
  closed_by_admin.close();

  // The server closes gracefully (FIN, then waits for ours): answering at once keeps the
  // test short; the reason stays the one the server chose.
  EXPECT_TRUE(idle.closed_without_data());
  idle.close();
  auto samples = rs.scrape_until_value("reactord_connections_closed_total", {{"reason", "idle_timeout"}}, 1);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "peer_eof"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "error"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "admin"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "idle_timeout"}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_active"), 0.0);

  // Drain: the listener stops, the gauge says so, and the client still there at the deadline
  // is closed with reason drain. Resume undoes it.
  TcpClient stays(rs.port());
  EXPECT_EQ(stays.read_exactly(greeting().size()), greeting());
  rs.server().drain(std::chrono::milliseconds(200));
  samples = rs.scrape_until_value("reactord_draining", {}, 1);
  EXPECT_EQ(find_value(samples, "reactord_draining"), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_accepting"), 0.0);
  EXPECT_TRUE(stays.closed_without_data());
  stays.close();
  samples = rs.scrape_until_value("reactord_connections_closed_total", {{"reason", "drain"}}, 1);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "drain"}}), 1.0);
  ASSERT_TRUE(rs.server().resume());
  samples = rs.scrape_until_value("reactord_accepting", {}, 1);
  EXPECT_EQ(find_value(samples, "reactord_accepting"), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_draining"), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_connection_duration_seconds_count"), 5.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "shutdown"}}), 0.0);
}

TEST(ServerMetricsTest, ReactorMetricsPerLoopWithBoundedLabels) {
  Config config = test_config();
  config.loops = 2;
  RunningServer rs(config);
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<TcpClient>(rs.port()));
    EXPECT_EQ(clients.back()->read_exactly(greeting().size()), greeting());
  }
  auto samples = rs.scrape_until_value("reactord_connections_active", {}, 4);
  for (const char* loop : {"0", "1"}) {
    SCOPED_TRACE(loop);
    EXPECT_EQ(find_value(samples, "reactord_reactor_running", {{"loop", loop}}), 1.0);
    EXPECT_GT(*find_value(samples, "reactord_reactor_loop_iterations_total", {{"loop", loop}}), 0);
    // At least the listener (SO_REUSEPORT: one per loop) and the post() wakeup are pending.
    EXPECT_GE(*find_value(samples, "reactord_reactor_events", {{"loop", loop}, {"state", "pending"}}), 2.0);
    ASSERT_TRUE(find_value(samples, "reactord_reactor_events", {{"loop", loop}, {"state", "active"}}));
    ASSERT_TRUE(find_value(samples, "reactord_reactor_events", {{"loop", loop}, {"state", "initialized"}}));
    auto polls = *find_value(samples, "reactord_reactor_poll_wait_seconds_count", {{"loop", loop}});
    EXPECT_GT(polls, 0);
    EXPECT_EQ(
        find_value(samples, "reactord_reactor_poll_wait_seconds_bucket", {{"loop", loop}, {"le", "+Inf"}}),
        polls);
    // Each scrape posts once to every loop.
    EXPECT_GE(*find_value(samples, "reactord_reactor_posts_total", {{"loop", loop}}), 1.0);
    EXPECT_GE(*find_value(samples, "reactord_reactor_wakeups_total", {{"loop", loop}}), 1.0);
    EXPECT_GT(*find_value(samples, "reactord_reactor_callback_duration_seconds_count", {{"loop", loop}}), 0);
    EXPECT_GE(*find_value(samples, "reactord_reactor_longest_callback_seconds", {{"loop", loop}}), 0);
  }
  // Histogram buckets are cumulative: never decreasing with le.
  double previous = 0;
  for (const auto& s : samples) {
    if (s.name != "reactord_reactor_callback_duration_seconds_bucket" || s.labels.at("loop") != "0") {
      continue;
    }
    EXPECT_GE(s.value, previous) << "le=" << s.labels.at("le");
    previous = s.value;
  }

  // No label identifies a connection, a peer or a port; the only label values are bounded.
  const std::set<std::string> allowed = {"loop",     "state",    "reason", "errno",   "le",
                                         "service",  "method",   "code",   "version", "build_type",
                                         "compiler", "quantile", "result"};
  for (const auto& s : samples) {
    for (const auto& [key, value] : s.labels) {
      EXPECT_TRUE(allowed.count(key)) << s.name << " has label " << key;
    }
  }

  // A loop that has exited is reported as such, and the scrape does not wait for it: a wait
  // for its answer would end at the deadline and count in loop_timeouts_total.
  rs.server().exit_loop(1);
  samples = rs.scrape_until_value("reactord_reactor_running", {{"loop", "1"}}, 0);
  EXPECT_EQ(find_value(samples, "reactord_reactor_running", {{"loop", "1"}}), 0.0);
  samples = rs.scrape();
  EXPECT_FALSE(find_value(samples, "reactord_reactor_loop_iterations_total", {{"loop", "1"}}));
  EXPECT_EQ(find_value(samples, "reactord_metrics_loop_timeouts_total"), 0.0);
  EXPECT_TRUE(find_value(samples, "reactord_reactor_loop_iterations_total", {{"loop", "0"}}));

  // A stuck loop (a callback that does not return) delays a scrape by the deadline (1 s) at
  // most: its reactor metrics are left out, the counters are still there, and the timeout
  // is counted.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  rs.server().loop(0).post([released] { released.wait_for(std::chrono::seconds(10)); });
  auto start = std::chrono::steady_clock::now();
  samples = rs.scrape();
  auto took = std::chrono::steady_clock::now() - start;
  release.set_value();
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(find_value(samples, "reactord_metrics_loop_timeouts_total"), 1.0);
  EXPECT_FALSE(find_value(samples, "reactord_reactor_loop_iterations_total", {{"loop", "0"}}));
  // (Loop 1 closed its share of the clients when it exited.)
  ASSERT_TRUE(find_value(samples, "reactord_connections_active"));
  EXPECT_LE(*find_value(samples, "reactord_connections_active"), 4.0);
  EXPECT_TRUE(find_value(samples, "reactord_connections_accepted_total") == 4.0);
  // Once it returns, the next scrape has it again.
  samples = rs.scrape_until([](const std::vector<Sample>& s) {
    return find_value(s, "reactord_reactor_loop_iterations_total", {{"loop", "0"}}).has_value();
  });
  EXPECT_TRUE(find_value(samples, "reactord_reactor_loop_iterations_total", {{"loop", "0"}}));
}

TEST(ServerMetricsTest, BackpressureIsCountedAndBufferedBytesShown) {
  Config config = test_config();
  config.max_output_buffer = 64 * 1024;
  RunningServer rs(config);
  // A client that sends and never reads, with a small receive window: once the kernel
  // buffers on both sides are full, its echo backs up in the server until the output reaches
  // --max-output-buffer and reading pauses. (Before that, the output may drain into a growing
  // socket buffer and resume: pauses can be more than one.)
  TcpClient hog(rs.port(), /*limit=*/std::chrono::milliseconds(200), /*receive_buffer=*/4096);
  const std::string chunk(256 * 1024, 'b');
  std::size_t sent = 0;
  std::vector<Sample> samples;
  auto backed_up = [](const std::vector<Sample>& s) {
    return find_value(s, "reactord_backpressure_pauses_total").value_or(0) >= 1 &&
           find_value(s, "reactord_output_buffered_bytes").value_or(0) >= 64.0 * 1024;
  };
  for (int round = 0; round < 100; ++round) {  // at most 100 x (200 ms send + a scrape)
    sent += hog.send_some(chunk);
    samples = rs.scrape();
    if (backed_up(samples)) break;
  }
  EXPECT_TRUE(backed_up(samples)) << sent << " bytes sent";
  EXPECT_LE(*find_value(samples, "reactord_output_buffered_bytes"), static_cast<double>(sent));
  EXPECT_LE(*find_value(samples, "reactord_received_bytes_total"), static_cast<double>(sent));
  hog.reset();
  samples = rs.scrape_until_value("reactord_output_buffered_bytes", {}, 0);
  EXPECT_EQ(find_value(samples, "reactord_output_buffered_bytes"), 0.0);
  EXPECT_EQ(find_value(samples, "reactord_connections_closed_total", {{"reason", "error"}}), 1.0);
}

TEST(ServerMetricsTest, BusyMetricsPortFailsStartWithAClearMessage) {
  // Something already listens on the port --metrics-listen asks for.
  const test_support::TakenPort taken;
  ASSERT_FALSE(taken.address().empty());
  const std::string busy = taken.address();

  Config config = test_config();
  config.metrics_listen = *reactor::SocketAddress::parse(busy);
  Server server(config);
  server.add_component(std::make_unique<MetricsComponent>());
  try {
    server.start();
    ADD_FAILURE() << "started with a busy metrics port";
    server.stop();
    server.wait();
  } catch (const StartError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("metrics"), std::string::npos) << message;
    EXPECT_NE(message.find(busy), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace reactord::metrics
