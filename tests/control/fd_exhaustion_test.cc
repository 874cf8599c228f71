// The control plane and the metrics stay reachable when data clients exhaust the fds (issue 13,
// item 1). The real reactord runs under `prlimit --nofile=256:256` while a few hundred clients
// flood the echo port: established clients keep echoing, /metrics answers (curl), a fresh gRPC
// channel's health check answers during and after the flood, and the excess data clients are
// refused and counted (rejected{reason="fd_reserve"}). It used to be gRPC's accept loop that
// met EMFILE, its listen queue staying full for 35 s and more.
//
// Not under ASan+UBSan: UBSan's vptr check probes memory with pipe(), which fails at EMFILE,
// and then reports "invalid vptr" for valid objects — a sanitizer artefact (TOOLCHAIN.md,
// "Sanitizer artefact at fd exhaustion"). This binary is built with reactord's flags, so it
// skips itself in the asan build; the debug and tsan builds run it.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>
#include <vector>

#include "control_test_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/child_process.h"
#include "reactor/sanitizer_build.h"

namespace reactord::test_support {
namespace {

#if REACTOR_ASAN_BUILD
constexpr bool kUbsanVptr = true;
#else
constexpr bool kUbsanVptr = false;
#endif

// reactord under prlimit (prlimit execs it: same pid), its three addresses from its log.
struct LimitedReactord {
  explicit LimitedReactord(const std::string& nofile) {
    process = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/bin/prlimit", "--nofile=" + nofile, "--", REACTORD_BIN, "--listen", "127.0.0.1:0",
        "--control-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"});
    if (!process->wait_for_line("control plane listening on ", 20s)) return;
    process->wait_for_line("fd limit", 5s);  // the budget is set once the components are up
    const std::string& log = process->log();
    std::smatch m;
    if (std::regex_search(log, m, std::regex(R"(\] listening on 127\.0\.0\.1:(\d+))"))) {
      data_port = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
    if (std::regex_search(log, m, std::regex(R"(metrics listening on (http://\S+))"))) {
      metrics_url = m[1];
      if (metrics_url.find("/metrics") == std::string::npos) metrics_url += "/metrics";
    }
    if (std::regex_search(log, m, std::regex(R"(control plane listening on (\S+))"))) {
      control = m[1];
      while (!control.empty() && (control.back() == ',' || control.back() == ')')) control.pop_back();
    }
  }
  // A failed test shows reactord's own account (the rest of its log, read now): why it stopped
  // answering is in there, and nowhere else.
  ~LimitedReactord() {
    if (!testing::Test::HasFailure() || !process) return;
    process->wait_for_line("\x01 never printed", 2s);
    const std::string& log = process->log();
    std::cerr << "reactord's log (last 6,000 bytes):\n"
              << log.substr(log.size() > 6000 ? log.size() - 6000 : 0) << "\n";
  }
  LimitedReactord(const LimitedReactord&) = delete;
  LimitedReactord& operator=(const LimitedReactord&) = delete;

  bool ready() const { return data_port != 0 && !metrics_url.empty() && !control.empty(); }

  std::unique_ptr<ChildProcess> process;
  std::uint16_t data_port = 0;
  std::string metrics_url;
  std::string control;
};

// A health check over a channel made for it (no connection reused from before the flood).
bool fresh_channel_health_ok(const std::string& target, std::string* why) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) *why = std::to_string(status.error_code()) + " " + status.error_message();
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

RunResult scrape(const std::string& url) {
  return run_command({"/usr/bin/curl", "-sS", "--max-time", "5", url}, 10s);
}

std::uint64_t metric_value(const std::string& page, const std::string& series) {
  const auto at = page.find(series + " ");
  if (at == std::string::npos) return 0;
  return std::stoull(page.substr(at + series.size() + 1));
}

TEST(FdExhaustion, ControlPlaneAndMetricsAnswerWhileDataClientsFloodTheFdLimit) {
  if (kUbsanVptr) GTEST_SKIP() << "UBSan's vptr check misreports at EMFILE (TOOLCHAIN.md)";
  LimitedReactord d("256:256");
  ASSERT_TRUE(d.ready()) << d.process->log();
  EXPECT_NE(d.process->log().find("fd limit 256:"), std::string::npos) << d.process->log();

  std::vector<std::unique_ptr<TcpClient>> established;
  for (int i = 0; i < 5; ++i) {
    established.push_back(std::make_unique<TcpClient>(d.data_port));
    ASSERT_EQ(established.back()->read_exactly(14), "Hello, World!\n");
  }

  // The flood: 400 clients held open, and a thread churning more for as long as we check.
  std::vector<std::unique_ptr<TcpClient>> flood;
  for (int i = 0; i < 400; ++i) flood.push_back(std::make_unique<TcpClient>(d.data_port));
  std::atomic<int> churned{0};
  // jthread: a failed ASSERT below returns early, and the churn must stop and be joined then too
  // (a joinable std::thread destroyed on that path used to end the whole binary in terminate).
  std::jthread churn([&](const std::stop_token& stop) {
    const auto limit = std::chrono::steady_clock::now() + 60s;
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < limit) {
      TcpClient extra(d.data_port);
      ++churned;
      std::this_thread::sleep_for(2ms);
    }
  });

  // During the flood.
  for (int round = 0; round < 3; ++round) {
    for (auto& client : established) {
      client->send_all("ping");
      EXPECT_EQ(client->read_exactly(4), "ping") << "an established client stopped being served";
    }
    std::string why;
    EXPECT_TRUE(fresh_channel_health_ok(d.control, &why)) << "health during the flood: " << why;
    auto page = scrape(d.metrics_url);
    EXPECT_EQ(page.exit_code, 0) << "/metrics during the flood: " << page.err;
    EXPECT_NE(page.out.find("reactord_connections_active"), std::string::npos);
  }
  auto page = scrape(d.metrics_url);
  ASSERT_EQ(page.exit_code, 0) << page.err;
  EXPECT_GT(metric_value(page.out, R"(reactord_connections_rejected_total{reason="fd_reserve"})"), 0u)
      << page.out.substr(0, 3000);

  churn.request_stop();
  churn.join();
  EXPECT_GT(churned.load(), 0);
  flood.clear();

  // After the flood: a fresh channel, a fresh data client.
  std::string why;
  EXPECT_TRUE(fresh_channel_health_ok(d.control, &why)) << "health after the flood: " << why;
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {  // the flood's slots free as reactord sees them go
    TcpClient again(d.data_port);
    served = again.read_exactly(14, 1000ms) == "Hello, World!\n";
  }
  EXPECT_TRUE(served);
  for (auto& client : established) {
    client->send_all("pong");
    EXPECT_EQ(client->read_exactly(4), "pong");
  }
}

TEST(FdExhaustion, SoftFdLimitIsRaisedToTheHardLimitAtStart) {
  LimitedReactord d("256:1024");
  ASSERT_TRUE(d.ready()) << d.process->log();
  EXPECT_NE(d.process->log().find("raised the soft RLIMIT_NOFILE from 256 to the hard limit 1024"),
            std::string::npos)
      << d.process->log();
  std::ifstream limits("/proc/" + std::to_string(d.process->pid()) + "/limits");
  std::string line;
  bool found = false;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    found = true;
    EXPECT_TRUE(std::regex_search(line, std::regex(R"(Max open files\s+1024\s+1024)"))) << line;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace reactord::test_support
