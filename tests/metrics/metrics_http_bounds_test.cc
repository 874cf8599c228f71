// The metrics HTTP server against clients that hold connections (issue #13.11): idle sockets and
// a slow-loris sender must not keep a real scraper (curl) from its answer; connections that
// never finish a request are closed after the request timeout. And an IPv6 --metrics-listen
// (#13.12) either serves over IPv6 or fails with a clear line, never "null context".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server/metrics/build_info.h"
#include "server/metrics/metrics_endpoint.h"
#include "support/child_process.h"
#include "support/tcp_client.h"

namespace reactord::metrics {
namespace {

using namespace std::chrono_literals;

// Runs curl (a real scraper) against the page; returns its stdout, or "" on failure.
std::string curl(const std::string& url, int max_seconds) {
  const test_support::RunResult r = test_support::run_command(
      {"/usr/bin/curl", "-g", "-s", "-f", "--max-time", std::to_string(max_seconds), url},
      std::chrono::seconds(max_seconds + 10));
  return r.exit_code == 0 ? r.out : std::string();
}

// Sends a request header by header, one line every 200 ms, never finishing it.
class SlowLoris {
 public:
  explicit SlowLoris(std::uint16_t port) : client_(port, 2000ms) {
    client_.send_some("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    thread_ = std::thread([this] {
      for (int i = 0; !stop_.load() && i < 300; ++i) {
        if (client_.send_some("X-Slow-" + std::to_string(i) + ": y\r\n") == 0) break;
        std::this_thread::sleep_for(200ms);
      }
    });
  }
  ~SlowLoris() {
    stop_.store(true);
    thread_.join();
  }

 private:
  test_support::TcpClient client_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(MetricsHttpBounds, IdleSocketsAndASlowLorisDoNotBlockAScrape) {
  MetricsEndpoint endpoint("127.0.0.1:0");  // the defaults reactord runs with
  endpoint.add(std::make_shared<BuildInfoCollector>());
  std::vector<std::unique_ptr<test_support::TcpClient>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<test_support::TcpClient>(endpoint.port()));
  SlowLoris loris(endpoint.port());
  std::string page = curl("http://127.0.0.1:" + std::to_string(endpoint.port()) + "/metrics", 20);
  EXPECT_NE(page.find("reactord_build_info"), std::string::npos) << page;
}

TEST(MetricsHttpBounds, ConnectionsThatNeverFinishARequestAreClosedAfterTheTimeout) {
  HttpLimits limits;
  limits.max_connections = 8;
  limits.request_timeout = 1s;
  MetricsEndpoint endpoint("127.0.0.1:0", "/metrics", limits);
  endpoint.add(std::make_shared<BuildInfoCollector>());
  // More idle connections than workers: each worker is freed after the request timeout.
  std::vector<std::unique_ptr<test_support::TcpClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<test_support::TcpClient>(endpoint.port(), 15000ms));
  }
  SlowLoris loris(endpoint.port());
  std::string page = curl("http://127.0.0.1:" + std::to_string(endpoint.port()) + "/metrics", 30);
  EXPECT_NE(page.find("reactord_build_info"), std::string::npos) << page;
  for (auto& c : idle) EXPECT_TRUE(c->closed_without_data());
}

TEST(MetricsHttpBounds, IdleConnectionsAtTheCapGiveTheirPlaceToAScrapeAndThePageCountsIt) {
  // Issue #13 item 11: idle connections to the metrics port must not block scrapes.
  HttpLimits limits;
  limits.max_connections = 2;
  MetricsEndpoint endpoint("127.0.0.1:0", "/metrics", limits);
  const std::string url = "http://127.0.0.1:" + std::to_string(endpoint.port()) + "/metrics";
  test_support::TcpClient first(endpoint.port());
  for (int i = 0; i < 500 && endpoint.http_stats().connections_open < 1; ++i)
    std::this_thread::sleep_for(20ms);
  test_support::TcpClient second(endpoint.port());
  for (int i = 0; i < 500 && endpoint.http_stats().connections_open < 2; ++i)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(endpoint.http_stats().connections_open, 2u);
  // Both idle: the scrape takes the place of the one idle longest, at once.
  std::string page = curl(url, 20);
  EXPECT_NE(page.find("reactord_metrics_http_connections"), std::string::npos) << page;
  EXPECT_TRUE(first.closed_without_data());
  // curl has left too: one place free, the next scrape evicts nobody and shows the count.
  for (int i = 0; i < 500 && endpoint.http_stats().connections_open > 1; ++i)
    std::this_thread::sleep_for(20ms);
  page = curl(url, 20);
  EXPECT_NE(page.find("reactord_metrics_http_refused_total{reason=\"evicted\"} 1"), std::string::npos)
      << page;
  EXPECT_EQ(endpoint.http_stats().rejected_max_connections, 0u);
}

TEST(MetricsHttpBounds, AnIpv6AddressServesOrFailsWithAClearLine) {
  try {
    MetricsEndpoint endpoint("[::1]:0");
    endpoint.add(std::make_shared<BuildInfoCollector>());
    std::string page = curl("http://[::1]:" + std::to_string(endpoint.port()) + "/metrics", 20);
    EXPECT_NE(page.find("reactord_build_info"), std::string::npos);
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find("null context"), std::string::npos) << what;
    EXPECT_NE(what.find("IPv6"), std::string::npos) << what;
    EXPECT_NE(what.find("[::1]:0"), std::string::npos) << what;
    EXPECT_TRUE(metrics_ipv6_supported() == false) << what;
  }
}

}  // namespace
}  // namespace reactord::metrics
