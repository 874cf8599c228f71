// The control-plane interceptor over a real gRPC server on loopback: gRPC's own health service
// stands in for the control plane, called through a GenericStub (no generated code needed).
#include "server/control/control_interceptor.h"
#include "server/metrics/control_metrics.h"
#include "reactor/sanitizer_build.h"

#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace reactord::metrics {

// The interceptor is the control plane's; it records into ControlMetrics through
// ControlPlaneCounters.
using control::make_control_interceptors;
using control::split_grpc_method;
namespace {

const prometheus::ClientMetric* find(const prometheus::MetricFamily& family, const std::string& method,
                                     const std::string& code) {
  for (const auto& m : family.metric) {
    bool method_ok = false, code_ok = code.empty();
    for (const auto& l : m.label) {
      method_ok = method_ok || (l.name == "method" && l.value == method);
      code_ok = code_ok || (l.name == "code" && l.value == code);
    }
    if (method_ok && code_ok) return &m;
  }
  return nullptr;
}

// A health CheckRequest with field 1 (service) set: tag 0x0a, length, bytes.
grpc::ByteBuffer check_request(const std::string& service) {
  std::string wire = "\x0a" + std::string(1, static_cast<char>(service.size())) + service;
  grpc::Slice slice(wire);
  return grpc::ByteBuffer(&slice, 1);
}

grpc::Status call(grpc::GenericStub& stub, const std::string& method, const grpc::ByteBuffer& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto rpc = stub.PrepareUnaryCall(&context, method, request, &cq);
  rpc->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  rpc->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {}
  return status;
}

TEST(ControlInterceptorTest, SplitsMethodNames) {
  EXPECT_EQ(split_grpc_method("/reactord.v1.Admin/GetStats"),
            (std::pair<std::string_view, std::string_view>{"reactord.v1.Admin", "GetStats"}));
  EXPECT_EQ(split_grpc_method("weird").first, "unknown");
  EXPECT_EQ(split_grpc_method("/nomethod/").first, "unknown");
  EXPECT_STREQ(status_code_name(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_STREQ(status_code_name(999), "UNKNOWN");
}

// A loopback gRPC server with the interceptor: gRPC's health service plus reflection (gRPC
// refuses a server without a synchronous service; reflection is one, as in reactord's control
// plane), so no generated code is needed.
class InterceptedServer {
 public:
  explicit InterceptedServer(ControlMetrics& metrics) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.experimental().SetInterceptorCreators(make_control_interceptors(metrics));
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) throw std::runtime_error("gRPC server did not start");
    server_->GetHealthCheckService()->SetServingStatus("reactord", true);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
  }
  // Returns once every call has finished (and been recorded).
  void shutdown() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    server_.reset();
  }
  ~InterceptedServer() { shutdown(); }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST(ControlInterceptorTest, RecordsEveryRpcWithItsStatus) {
  ControlMetrics metrics;
  InterceptedServer server(metrics);
  grpc::GenericStub stub(server.channel());
  const std::string check = "/grpc.health.v1.Health/Check";
  EXPECT_TRUE(call(stub, check, check_request("reactord")).ok());
  EXPECT_TRUE(call(stub, check, check_request("reactord")).ok());
  EXPECT_EQ(call(stub, check, check_request("no-such-service")).error_code(), grpc::StatusCode::NOT_FOUND);

  server.shutdown();

  auto families = metrics.Collect();
  auto* ok = find(families[0], "Check", "OK");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->counter.value, 2);
  for (const auto& l : ok->label) {
    if (l.name == "service") {
      EXPECT_EQ(l.value, "grpc.health.v1.Health");
    }
  }
  auto* not_found = find(families[0], "Check", "NOT_FOUND");
  ASSERT_NE(not_found, nullptr);
  EXPECT_EQ(not_found->counter.value, 1);
  auto* latency = find(families[1], "Check", "");
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->histogram.sample_count, 3u);
  EXPECT_GT(latency->histogram.sample_sum, 0);
  EXPECT_LT(latency->histogram.sample_sum, 30);
}

TEST(ControlInterceptorTest, UnknownMethodsAreCountedToo) {
#if REACTOR_TSAN_BUILD
  // gRPC serves unknown methods through its generic callback path, which frees the method
  // name on another thread after synchronising inside uninstrumented libgrpc: TSan reports a
  // race it cannot see the ordering of (the string code is inlined into this binary, so
  // called_from_lib does not apply). Checked in the debug and asan builds.
  GTEST_SKIP() << "false positive inside gRPC's generic callback path under TSan";
#endif
  ControlMetrics metrics;
  InterceptedServer server(metrics);
  grpc::GenericStub stub(server.channel());
  EXPECT_EQ(call(stub, "/grpc.health.v1.Health/NoSuchMethod", check_request("")).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  server.shutdown();
  // A client can invent method names: this is why ControlMetrics bounds its label sets.
  auto families = metrics.Collect();
  auto* unimplemented = find(families[0], "NoSuchMethod", "UNIMPLEMENTED");
  ASSERT_NE(unimplemented, nullptr);
  EXPECT_EQ(unimplemented->counter.value, 1);
}

}  // namespace
}  // namespace reactord::metrics
