// Control.SetRateLimit over a real gRPC channel to an in-process reactord: targets (ids,
// filter, total, new connections), the values shown by GetConnection / ListConnections and
// GetServerInfo, INVALID_ARGUMENT / NOT_FOUND on bad requests (nothing changed), and the
// admin role.
#include <gtest/gtest.h>

#include "control_test_util.h"

namespace reactord::test_support {
namespace {

v1::SetRateLimitRequest limit_request(std::uint64_t bps, std::uint64_t burst = 0) {
  v1::SetRateLimitRequest request;
  request.mutable_limit()->set_bytes_per_second(bps);
  request.mutable_limit()->set_burst(burst);
  return request;
}

std::vector<v1::Connection> list(InProcessReactord& r) {
  v1::ListConnectionsRequest request;
  v1::ListConnectionsResponse response;
  EXPECT_TRUE(r.inspect()->ListConnections(ctx().get(), request, &response).ok());
  return {response.connections().begin(), response.connections().end()};
}

TEST(SetRateLimitRpc, TargetsConnectionsTheTotalAndNewClients) {
  InProcessReactord r(2);
  TcpClient a(r.data_port());
  TcpClient b(r.data_port());
  ASSERT_EQ(a.read_exactly(14), "Hello, World!\n");
  ASSERT_EQ(b.read_exactly(14), "Hello, World!\n");
  ASSERT_TRUE(eventually([&] { return list(r).size() == 2; }));
  const auto conns = list(r);
  auto control = r.control();

  // By id.
  auto by_id = limit_request(128 * 1024, 256 * 1024);
  by_id.add_ids(conns[0].id());
  v1::SetRateLimitResponse response;
  ASSERT_TRUE(control->SetRateLimit(ctx().get(), by_id, &response).ok());
  EXPECT_EQ(response.matched(), 1u);
  v1::GetConnectionRequest get;
  get.set_id(conns[0].id());
  v1::Connection detailed;
  ASSERT_TRUE(r.inspect()->GetConnection(ctx().get(), get, &detailed).ok());
  EXPECT_EQ(detailed.rate_limit().bytes_per_second(), 128u * 1024);
  EXPECT_EQ(detailed.rate_limit().burst(), 256u * 1024);
  EXPECT_FALSE(list(r)[1].has_rate_limit()) << "the other one is untouched";

  // By filter (every connection from 127.0.0.1), burst defaulting to the rate.
  auto by_filter = limit_request(64 * 1024);
  by_filter.mutable_filter()->set_peer("127.0.0.1");
  ASSERT_TRUE(control->SetRateLimit(ctx().get(), by_filter, &response).ok());
  EXPECT_EQ(response.matched(), 2u);
  for (const auto& c : list(r)) {
    EXPECT_EQ(c.rate_limit().bytes_per_second(), 64u * 1024);
    EXPECT_EQ(c.rate_limit().burst(), 64u * 1024);
  }

  // The total (both loops) and the default for new clients.
  auto total = limit_request(1 << 20);
  total.set_target(v1::RATE_LIMIT_TARGET_TOTAL);
  ASSERT_TRUE(control->SetRateLimit(ctx().get(), total, &response).ok());
  EXPECT_EQ(response.total().bytes_per_second(), 1u << 20);
  for (const auto& c : list(r)) EXPECT_TRUE(c.rate_limit_total()) << "connection " << c.id();
  auto fresh = limit_request(32 * 1024);
  fresh.set_target(v1::RATE_LIMIT_TARGET_NEW_CONNECTIONS);
  ASSERT_TRUE(control->SetRateLimit(ctx().get(), fresh, &response).ok());
  EXPECT_EQ(response.per_connection().bytes_per_second(), 32u * 1024);
  TcpClient c(r.data_port());
  ASSERT_EQ(c.read_exactly(14), "Hello, World!\n");
  ASSERT_TRUE(eventually([&] { return list(r).size() == 3; }));
  const auto three = list(r);
  EXPECT_EQ(three[2].rate_limit().bytes_per_second(), 32u * 1024) << "a new client gets the new default";
  EXPECT_TRUE(three[2].rate_limit_total());
  v1::ServerInfo info;
  ASSERT_TRUE(r.inspect()->GetServerInfo(ctx().get(), {}, &info).ok());
  EXPECT_EQ(info.limits().at("rate_limit_total_bytes_per_second"), 1 << 20);
  EXPECT_EQ(info.limits().at("rate_limit_per_connection_bytes_per_second"), 32 * 1024);

  // Removing: no limit in the request.
  v1::SetRateLimitRequest remove_total;
  remove_total.set_target(v1::RATE_LIMIT_TARGET_TOTAL);
  ASSERT_TRUE(control->SetRateLimit(ctx().get(), remove_total, &response).ok());
  EXPECT_FALSE(response.has_total());
  for (const auto& conn : list(r)) EXPECT_FALSE(conn.rate_limit_total());
  v1::SetRateLimitRequest remove_all;
  remove_all.set_all(true);
  ASSERT_TRUE(control->SetRateLimit(ctx().get(), remove_all, &response).ok());
  EXPECT_EQ(response.matched(), 3u);
  for (const auto& conn : list(r)) EXPECT_FALSE(conn.has_rate_limit());
}

TEST(SetRateLimitRpc, BadRequestsChangeNothing) {
  InProcessReactord r;
  TcpClient a(r.data_port());
  ASSERT_EQ(a.read_exactly(14), "Hello, World!\n");
  ASSERT_TRUE(eventually([&] { return list(r).size() == 1; }));
  const std::uint64_t id = list(r)[0].id();
  auto control = r.control();
  v1::SetRateLimitResponse response;
  auto code = [&](const v1::SetRateLimitRequest& request) {
    return control->SetRateLimit(ctx().get(), request, &response).error_code();
  };

  auto too_slow = limit_request(5);
  too_slow.add_ids(id);
  EXPECT_EQ(code(too_slow), grpc::StatusCode::INVALID_ARGUMENT);
  auto small_burst = limit_request(1 << 20, 1000);
  small_burst.add_ids(id);
  EXPECT_EQ(code(small_burst), grpc::StatusCode::INVALID_ARGUMENT);
  auto huge_burst = limit_request(1 << 20, 3ull << 30);
  huge_burst.add_ids(id);
  EXPECT_EQ(code(huge_burst), grpc::StatusCode::INVALID_ARGUMENT);
  auto total_with_ids = limit_request(1 << 20);
  total_with_ids.set_target(v1::RATE_LIMIT_TARGET_TOTAL);
  total_with_ids.add_ids(id);
  EXPECT_EQ(code(total_with_ids), grpc::StatusCode::INVALID_ARGUMENT);
  auto unknown_target = limit_request(1 << 20);
  unknown_target.set_target(static_cast<v1::RateLimitTarget>(42));
  EXPECT_EQ(code(unknown_target), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(limit_request(1 << 20)), grpc::StatusCode::INVALID_ARGUMENT) << "no selection";
  auto unknown_id = limit_request(1 << 20);
  unknown_id.add_ids(id);
  unknown_id.add_ids(id + 1000);
  EXPECT_EQ(code(unknown_id), grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(list(r)[0].has_rate_limit()) << "nothing was changed";
}

TEST(SetRateLimitRpc, ViewersCannotSetLimits) {
  control::ControlOptions options;
  options.token_file = temp_file("admin-secret\n");
  options.viewer_token_file = temp_file("viewer-secret\n");
  InProcessReactord r(1, options);
  auto request = limit_request(1 << 20);
  request.set_target(v1::RATE_LIMIT_TARGET_TOTAL);
  v1::SetRateLimitResponse response;
  EXPECT_EQ(r.control()->SetRateLimit(ctx(5000ms, "viewer-secret").get(), request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.control()->SetRateLimit(ctx(5000ms).get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(r.control()->SetRateLimit(ctx(5000ms, "admin-secret").get(), request, &response).ok());
}

}  // namespace
}  // namespace reactord::test_support
