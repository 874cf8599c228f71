// ExitLoop and accepting (the real reactord binary, --loops 2, both accept modes): after a
// loop has ended, every new client is still greeted — the single acceptor skips the dead loop,
// and when the acceptor itself ends a live loop takes its listening socket over — and health,
// GetServerInfo and reactord_accepting say so honestly.
#include <gtest/gtest.h>

#include "control_test_util.h"
#include "daemon_process.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/tcp_client.h"

namespace reactord::test_support {
namespace {

using Param = std::tuple<const char*, unsigned>;  // accept mode, loop to end

class ExitLoopAccept : public ::testing::TestWithParam<Param> {};

std::string scrape(std::uint16_t port) {
  reactor::UniqueFd fd = test_support::connect_to(reactor::SocketAddress::ipv4_loopback(port));
  if (!fd.valid()) return {};
  test_support::write_all(fd.get(), "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  std::string body;
  while (true) {
    std::string part = test_support::read_exactly(fd.get(), 65536, 5000ms);
    if (part.empty()) break;
    body += part;
  }
  return body;
}

TEST_P(ExitLoopAccept, NewClientsAreGreetedAfterTheLoopEnded) {
  const auto [mode, loop] = GetParam();
  Daemon d({"--loops", "2", "--accept-mode", mode, "--log-level", "debug"});
  ASSERT_TRUE(d.ready()) << d.process.output();
  auto metrics = d.process.wait_for_output(R"(metrics listening on http://127\.0\.0\.1:(\d+))", 1000ms);
  ASSERT_TRUE(metrics);

  v1::ExitLoopRequest request;
  request.set_loop(loop);
  v1::LoopActionResponse response;
  ASSERT_TRUE(d.control()->ExitLoop(ctx().get(), request, &response).ok());
  ASSERT_TRUE(d.process.wait_for_output("loop " + std::to_string(loop) + " ended", 10000ms))
      << d.process.output();

  // Round-robin would hand every second client to the dead loop: twenty in a row.
  for (int i = 0; i < 20; ++i) {
    reactor::UniqueFd fd = test_support::connect_to(d.data_address());
    ASSERT_TRUE(fd.valid()) << "client " << i << "\n" << d.process.output();
    ASSERT_EQ(test_support::read_exactly(fd.get(), 14, 5000ms), "Hello, World!\n") << "client " << i;
    ASSERT_TRUE(test_support::write_all(fd.get(), "ok"));
    ASSERT_EQ(test_support::read_exactly(fd.get(), 2), "ok");
  }
  // Honest reports: still accepting, health SERVING.
  v1::ServerInfo info;
  ASSERT_TRUE(d.inspect()->GetServerInfo(ctx().get(), {}, &info).ok());
  EXPECT_TRUE(info.accepting());
  auto health = grpc::health::v1::Health::NewStub(d.channel());
  grpc::health::v1::HealthCheckResponse h;
  ASSERT_TRUE(health->Check(ctx().get(), {}, &h).ok());
  EXPECT_EQ(h.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  const std::string page = scrape(static_cast<std::uint16_t>(std::stoi(*metrics)));
  EXPECT_NE(page.find("\nreactord_accepting 1"), std::string::npos) << page.substr(0, 2000);

  // The drain and resume cycle still works with one loop gone.
  v1::DrainResponse drained;
  ASSERT_TRUE(d.control()->Drain(ctx().get(), {}, &drained).ok());
  EXPECT_TRUE(eventually([&] { return !test_support::connect_to(d.data_address()).valid(); }));
  v1::ResumeResponse resumed;
  auto status = d.control()->Resume(ctx().get(), {}, &resumed);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << d.process.output();
  for (int i = 0; i < 4; ++i) {
    reactor::UniqueFd fd = test_support::connect_to(d.data_address());
    ASSERT_TRUE(fd.valid());
    EXPECT_EQ(test_support::read_exactly(fd.get(), 14, 5000ms), "Hello, World!\n") << "after resume " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ExitLoopAccept,
                         ::testing::Combine(::testing::Values("single", "reuseport"),
                                            ::testing::Values(0u, 1u)),
                         [](const auto& instance) {
                           return std::string(std::get<0>(instance.param)) + "_ExitLoop" +
                                  std::to_string(std::get<1>(instance.param));
                         });

}  // namespace
}  // namespace reactord::test_support
