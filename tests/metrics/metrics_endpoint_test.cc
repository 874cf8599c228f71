// MetricsEndpoint: address checking, and a real HTTP scrape of the collectors that do not need
// a server (build info, process, control plane).
#include "server/metrics/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "server/metrics/build_info.h"
#include "server/metrics/control_metrics.h"
#include "server/metrics/process_collector.h"
#include "scrape.h"
#include "shared_endpoint.h"
#include "support/taken_port.h"

namespace reactord::metrics {
namespace {

using test_support::find_value;
using test_support::http_get;
using test_support::parse_exposition;

TEST(ListenAddressTest, AcceptsHostPortForms) {
  auto v4 = parse_listen_address("127.0.0.1:9464");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 9464);
  EXPECT_EQ(v4.to_string(), "127.0.0.1:9464");
  EXPECT_EQ(parse_listen_address("0.0.0.0:0").port, 0);
  EXPECT_EQ(parse_listen_address("[::1]:9000").to_string(), "[::1]:9000");
  EXPECT_EQ(parse_listen_address("localhost:1").host, "127.0.0.1");
}

TEST(ListenAddressTest, RejectsGarbageWithAClearMessage) {
  for (const char* bad : {"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:12ab", "example.com:80", "[nope]:1", "300.1.1.1:80", ":80"}) {
    try {
      parse_listen_address(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(MetricsEndpointTest, BusyPortIsAClearError) {
  const reactord::test_support::TakenPort taken;
  ASSERT_FALSE(taken.address().empty());
  std::string listen = taken.address();
  try {
    MetricsEndpoint endpoint(listen);
    ADD_FAILURE() << "bound a busy port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(listen), std::string::npos) << e.what();
  }
}

TEST(MetricsEndpointTest, ServesRegisteredCollectorsOverHttp) {
  auto& endpoint = test_support::shared_endpoint();
  ASSERT_GT(endpoint.port(), 0);
  auto control = std::make_shared<ControlMetrics>();
  endpoint.add(std::make_shared<BuildInfoCollector>());
  endpoint.add(std::make_shared<ProcessCollector>());
  endpoint.add(control);
  control->record("reactord.v1.Admin", "GetStats", "OK", 0.002);
  control->record("reactord.v1.Admin", "GetStats", "OK", 0.004);
  control->record("reactord.v1.Admin", "CloseConnection", "NOT_FOUND", 0.001);

  auto response = http_get(endpoint.port());
  ASSERT_EQ(response.status, 200) << response.headers;
  EXPECT_NE(response.headers.find("text/plain"), std::string::npos) << response.headers;
  auto samples = parse_exposition(response.body);

  EXPECT_EQ(find_value(samples, "reactord_build_info", {{"version", BuildInfoCollector::version()}}), 1.0);
  EXPECT_EQ(find_value(samples, "reactord_control_requests_total",
                       {{"service", "reactord.v1.Admin"}, {"method", "GetStats"}, {"code", "OK"}}),
            2.0);
  EXPECT_EQ(find_value(samples, "reactord_control_requests_total",
                       {{"method", "CloseConnection"}, {"code", "NOT_FOUND"}}),
            1.0);
  EXPECT_EQ(find_value(samples, "reactord_control_request_duration_seconds_count", {{"method", "GetStats"}}),
            2.0);
  EXPECT_EQ(find_value(samples, "reactord_control_request_duration_seconds_bucket",
                       {{"method", "GetStats"}, {"le", "+Inf"}}),
            2.0);
  EXPECT_DOUBLE_EQ(
      *find_value(samples, "reactord_control_request_duration_seconds_sum", {{"method", "GetStats"}}), 0.006);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                           "process_max_fds", "process_start_time_seconds"}) {
    auto value = find_value(samples, name);
    ASSERT_TRUE(value.has_value()) << name;
    EXPECT_GE(*value, 0) << name;
  }
  EXPECT_GT(*find_value(samples, "process_open_fds"), 3);  // at least stdio + the exposer socket

  // Counters move between scrapes; the page is built at scrape time.
  control->record("reactord.v1.Admin", "GetStats", "OK", 0.002);
  auto again = parse_exposition(http_get(endpoint.port()).body);
  EXPECT_EQ(find_value(again, "reactord_control_requests_total", {{"method", "GetStats"}, {"code", "OK"}}),
            3.0);

  EXPECT_EQ(http_get(endpoint.port(), "/nothing-here").status, 404);
}

}  // namespace
}  // namespace reactord::metrics
