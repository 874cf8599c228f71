// reactord.v1.Control over a real gRPC channel: closing connections (graceful / abort /
// dry run / wait), drain and resume with health, loop exit and break, and every error code.
#include <gtest/gtest.h>

#include "control_test_util.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace reactord::test_support {
namespace {

std::vector<v1::Connection> connections(InProcessReactord& r) {
  v1::ListConnectionsResponse out;
  EXPECT_TRUE(r.inspect()->ListConnections(ctx().get(), {}, &out).ok());
  return {out.connections().begin(), out.connections().end()};
}

grpc::health::v1::HealthCheckResponse::ServingStatus health(InProcessReactord& r,
                                                            const std::string& service = "") {
  auto stub = grpc::health::v1::Health::NewStub(r.channel());
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  auto status = stub->Check(ctx().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

// CloseConnections with wait that must close exactly the one connection it matches, at once;
// *how: how that connection's client then saw its end ("eof", "reset").
void close_one_and_wait(InProcessReactord& r, v1::CloseConnectionsRequest request, TcpClient& client,
                        std::string* how) {
  request.set_wait(true);
  v1::CloseConnectionsResponse response;
  auto status = r.control()->CloseConnections(ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.matched(), 1u);
  EXPECT_EQ(response.closed(), 1u);
  EXPECT_EQ(response.still_closing(), 0u);
  client.read_to_end(how);
}

TEST(Control, GracefulCloseDeliversPendingEchoDataBeforeEof) {
  InProcessReactord r;
  auto client = greeted_client(r.data_port());
  const std::string payload(256 * 1024, 'p');
  client->send_all(payload);  // not read yet: the echo piles up in the server and the kernel
  ASSERT_TRUE(eventually([&] {
    auto list = connections(r);
    return list.size() == 1 && list[0].bytes_in() == payload.size();
  }));
  std::uint64_t id = connections(r)[0].id();

  v1::CloseConnectionsRequest request;
  request.add_ids(id);
  request.set_mode(v1::CLOSE_MODE_GRACEFUL);
  v1::CloseConnectionsResponse response;
  auto status = r.control()->CloseConnections(ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.matched(), 1u);

  std::string how;
  std::string echoed = client->read_to_end(&how);
  EXPECT_EQ(how, "eof");
  EXPECT_EQ(echoed.size(), payload.size());
  EXPECT_EQ(echoed, payload);
  client.reset();  // our FIN completes the server's graceful close at once
  EXPECT_TRUE(eventually([&] { return connections(r).empty(); }));
}

TEST(Control, AbortMakesTheClientSeeAReset) {
  InProcessReactord r;
  auto client = greeted_client(r.data_port());
  auto id = connections(r).at(0).id();
  v1::CloseConnectionsRequest request;
  request.add_ids(id);
  request.set_mode(v1::CLOSE_MODE_ABORT);
  std::string how;
  ASSERT_NO_FATAL_FAILURE(close_one_and_wait(r, request, *client, &how));
  EXPECT_EQ(how, "reset");
}

TEST(Control, FilterDryRunAndWait) {
  InProcessReactord r;
  auto quiet = greeted_client(r.data_port());
  auto talker = greeted_client(r.data_port());
  talker->send_all("hello\n");
  ASSERT_EQ(talker->read_exactly(6), "hello\n");

  v1::CloseConnectionsRequest request;
  request.mutable_filter()->set_min_bytes_in(6);
  request.set_dry_run(true);
  v1::CloseConnectionsResponse response;
  ASSERT_TRUE(eventually([&] {
    response.Clear();
    return r.control()->CloseConnections(ctx().get(), request, &response).ok() && response.matched() == 1;
  }));
  EXPECT_EQ(response.closed(), 0u);
  EXPECT_EQ(connections(r).size(), 2u);  // dry run closed nothing

  request.set_dry_run(false);
  std::string how;
  ASSERT_NO_FATAL_FAILURE(close_one_and_wait(r, request, *talker, &how));
  EXPECT_EQ(how, "eof");
  talker.reset();
  auto left = connections(r);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].peer_address(), "127.0.0.1:" + std::to_string(quiet->local_port()));
}

TEST(Control, CloseErrors) {
  InProcessReactord r;
  auto client = greeted_client(r.data_port());
  auto id = connections(r).at(0).id();
  auto stub = r.control();
  v1::CloseConnectionsResponse response;

  v1::CloseConnectionsRequest unknown;
  unknown.add_ids(id);
  unknown.add_ids(id + 12345);
  EXPECT_EQ(stub->CloseConnections(ctx().get(), unknown, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(connections(r).size(), 1u);  // nothing closed

  v1::CloseConnectionsRequest nothing;  // no ids, empty filter, no all
  EXPECT_EQ(stub->CloseConnections(ctx().get(), nothing, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::CloseConnectionsRequest bad_mode;
  bad_mode.add_ids(id);
  bad_mode.set_mode(static_cast<v1::CloseMode>(9));
  EXPECT_EQ(stub->CloseConnections(ctx().get(), bad_mode, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::CloseConnectionsRequest bad_deadline;
  bad_deadline.add_ids(id);
  bad_deadline.set_deadline_ms(-5);
  EXPECT_EQ(stub->CloseConnections(ctx().get(), bad_deadline, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::CloseConnectionsRequest bad_cidr;
  bad_cidr.mutable_filter()->set_peer("300.1.1.1/8");
  EXPECT_EQ(stub->CloseConnections(ctx().get(), bad_cidr, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(connections(r).size(), 1u);

  v1::CloseConnectionsRequest all;
  all.set_all(true);
  all.set_mode(v1::CLOSE_MODE_ABORT);
  all.set_wait(true);
  ASSERT_TRUE(stub->CloseConnections(ctx().get(), all, &response).ok());
  EXPECT_EQ(response.closed(), 1u);
}

TEST(Control, DrainRefusesNewClientsFlipsHealthAndResumeUndoesIt) {
  InProcessReactord r;
  EXPECT_EQ(health(r), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(health(r, "reactord.v1.Inspect"), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(health(r, "reactord.v1.Control"), grpc::health::v1::HealthCheckResponse::SERVING);
  auto stub = r.control();
  v1::DrainRequest drain;
  drain.set_deadline_ms(60'000);
  v1::DrainResponse drained;
  auto status = stub->Drain(ctx().get(), drain, &drained);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(drained.state(), v1::SERVER_STATE_DRAINING);
  EXPECT_EQ(health(r), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(health(r, "reactord.v1.Control"), grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  // A new client is refused while draining (the listening socket is closed).
  ASSERT_TRUE(eventually([&] {
    v1::ServerInfo info;
    return r.inspect()->GetServerInfo(ctx().get(), {}, &info).ok() && !info.accepting();
  }));
  EXPECT_TRUE(eventually([&] { return !TcpClient(r.data_port()).connected(); }));

  EXPECT_EQ(stub->Drain(ctx().get(), drain, &drained).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::DrainRequest negative;
  negative.set_deadline_ms(-1);
  EXPECT_EQ(stub->Drain(ctx().get(), negative, &drained).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ResumeResponse resumed;
  ASSERT_TRUE(stub->Resume(ctx().get(), {}, &resumed).ok());
  EXPECT_EQ(resumed.state(), v1::SERVER_STATE_SERVING);
  EXPECT_EQ(health(r), grpc::health::v1::HealthCheckResponse::SERVING);
  TcpClient late(r.data_port());  // the same port listens again
  EXPECT_EQ(late.read_exactly(kGreeting.size()), kGreeting);
  EXPECT_EQ(stub->Resume(ctx().get(), {}, &resumed).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(Control, DrainClosesIdleConnectionsAfterTheDelay) {
  InProcessReactord r;
  auto idle = greeted_client(r.data_port());
  v1::DrainRequest drain;
  drain.set_deadline_ms(60'000);
  drain.set_close_idle_after_ms(200);
  drain.set_idle_threshold_ms(50);
  v1::DrainResponse drained;
  ASSERT_TRUE(r.control()->Drain(ctx().get(), drain, &drained).ok());
  std::string how;
  idle->read_to_end(&how, 3000ms);
  EXPECT_EQ(how, "eof");
}

TEST(Control, DrainWithExitWhenEmptyStopsTheServer) {
  InProcessReactord r;
  v1::DrainRequest drain;
  drain.set_exit_when_empty(true);
  v1::DrainResponse drained;
  ASSERT_TRUE(r.control()->Drain(ctx().get(), drain, &drained).ok());
  auto code = r.wait_for_exit(5000ms);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(Control, ExitLoopWithADelayEndsTheServerAfterIt) {
  InProcessReactord r(2);
  auto client = greeted_client(r.data_port());
  v1::ExitLoopRequest request;
  request.set_delay_ms(400);
  v1::LoopActionResponse response;
  auto start = std::chrono::steady_clock::now();
  auto status = r.control()->ExitLoop(ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.loops_size(), 2);
  // Still serving before the delay.
  client->send_all("still\n");
  EXPECT_EQ(client->read_exactly(6, 300ms), "still\n");
  auto code = r.wait_for_exit(5000ms);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_GE(took, 400ms);
}

TEST(Control, BreakOneLoopThenTheOtherStopsTheServer) {
  InProcessReactord r(2);
  auto stub = r.control();
  v1::BreakLoopRequest one;
  one.set_loop(1);
  v1::LoopActionResponse response;
  ASSERT_TRUE(stub->BreakLoop(ctx().get(), one, &response).ok());
  ASSERT_EQ(response.loops_size(), 1);
  EXPECT_EQ(response.loops(0), 1u);
  // Inspect answers with the remaining loop only (seen through RPCs, not the Server object:
  // this thread must not touch the server while it may shut down).
  ASSERT_TRUE(eventually([&] {
    v1::GetLoopStatsResponse stats;
    return r.inspect()->GetLoopStats(ctx().get(), {}, &stats).ok() && stats.loops_size() == 1 &&
           stats.loops(0).loop() == 0;
  }));
  // Breaking it again: it has ended.
  EXPECT_EQ(stub->BreakLoop(ctx().get(), one, &response).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::BreakLoopRequest all;
  ASSERT_TRUE(stub->BreakLoop(ctx().get(), all, &response).ok());
  auto code = r.wait_for_exit(5000ms);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(Control, LoopRequestErrors) {
  InProcessReactord r;
  auto stub = r.control();
  v1::LoopActionResponse response;
  v1::ExitLoopRequest negative;
  negative.set_delay_ms(-1);
  EXPECT_EQ(stub->ExitLoop(ctx().get(), negative, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ExitLoopRequest missing;
  missing.set_loop(5);
  EXPECT_EQ(stub->ExitLoop(ctx().get(), missing, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::BreakLoopRequest missing_break;
  missing_break.set_loop(5);
  EXPECT_EQ(stub->BreakLoop(ctx().get(), missing_break, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace reactord::test_support
