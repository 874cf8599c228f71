#include "server/metrics/control_interceptor.h"

#include <atomic>
#include <chrono>
#include <string>

namespace reactord::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// One per RPC, created by gRPC when the call arrives and destroyed when it is done.
class ControlMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  ControlMetricsInterceptor(ControlMetrics& metrics, const char* method)
      : metrics_(metrics), method_(method ? method : ""), start_(std::chrono::steady_clock::now()) {}

  ~ControlMetricsInterceptor() override {
    // A call that ended without sending a status (client went away) still counts.
    if (!recorded_.load(std::memory_order_relaxed)) record(status_code_name(grpc::StatusCode::CANCELLED));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // gRPC may run the hooks of different batches of one call on different threads.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !recorded_.load(std::memory_order_relaxed)) {
      record(status_code_name(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  void record(const char* code) {
    if (recorded_.exchange(true, std::memory_order_relaxed)) return;
    auto [service, method] = split_grpc_method(method_);
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    metrics_.record(service, method, code, elapsed.count());
  }

  ControlMetrics& metrics_;
  // A copy: gRPC may reuse the storage behind info->method() (generic services) before the
  // interceptor is destroyed.
  std::string method_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> recorded_{false};
};

class ControlMetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ControlMetricsInterceptorFactory(ControlMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ControlMetricsInterceptor(metrics_, info->method());
  }

 private:
  ControlMetrics& metrics_;
};

}  // namespace

const char* status_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

std::pair<std::string_view, std::string_view> split_grpc_method(std::string_view full) {
  if (full.size() > 1 && full.front() == '/') {
    std::size_t slash = full.find('/', 1);
    if (slash != std::string_view::npos && slash + 1 < full.size()) {
      return {full.substr(1, slash - 1), full.substr(slash + 1)};
    }
  }
  return {"unknown", full};
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
make_control_interceptors(ControlMetrics& metrics) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<ControlMetricsInterceptorFactory>(metrics));
  return creators;
}

}  // namespace reactord::metrics
