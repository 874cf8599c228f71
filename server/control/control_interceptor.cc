#include "server/control/control_interceptor.h"

#include <chrono>
#include <mutex>
#include <string>

namespace reactord::control {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Guards every interceptor's per-call state. gRPC creates an interceptor on one thread, runs
// the hooks of a call's batches on others and destroys it on yet another, ordering them inside
// libgrpc, which is not instrumented: ThreadSanitizer cannot see that ordering and reports the
// hand-off as a race. Taking this mutex in each entry point makes the ordering visible (and
// safe whatever gRPC does); at control-plane rates it costs nothing measurable. A static
// mutex, not a member: the member would live in the block being handed over.
std::mutex& call_state_mutex() {
  static std::mutex mutex;
  return mutex;
}

// One per RPC, created by gRPC when the call arrives and destroyed when it is done.
class ControlMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  ControlMetricsInterceptor(ControlPlaneCounters& metrics, const char* method) : metrics_(metrics) {
    std::lock_guard lock(call_state_mutex());
    // A copy: gRPC may reuse the storage behind info->method() (generic services) before the
    // interceptor is destroyed.
    method_ = method ? method : "";
    start_ = std::chrono::steady_clock::now();
  }

  ~ControlMetricsInterceptor() override {
    std::lock_guard lock(call_state_mutex());
    // A call that ended without sending a status (client went away) still counts.
    record_locked(status_code_name(grpc::StatusCode::CANCELLED));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const char* code = status_code_name(methods->GetSendStatus().error_code());
      std::lock_guard lock(call_state_mutex());
      record_locked(code);
    }
    methods->Proceed();  // outside the lock: it may run the next interceptor or the call
  }

 private:
  // Records once per call. call_state_mutex() held.
  void record_locked(const char* code) {
    if (recorded_) return;
    recorded_ = true;
    auto [service, method] = split_grpc_method(method_);
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    metrics_.record(service, method, code, elapsed.count());
  }

  ControlPlaneCounters& metrics_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class ControlMetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ControlMetricsInterceptorFactory(ControlPlaneCounters& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new ControlMetricsInterceptor(metrics_, info->method());
  }

 private:
  ControlPlaneCounters& metrics_;
};

}  // namespace

std::pair<std::string_view, std::string_view> split_grpc_method(std::string_view full) {
  if (full.size() > 1 && full.front() == '/') {
    std::size_t slash = full.find('/', 1);
    if (slash != std::string_view::npos && slash + 1 < full.size()) {
      return {full.substr(1, slash - 1), full.substr(slash + 1)};
    }
  }
  return {"unknown", full};
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> make_control_interceptors(
    ControlPlaneCounters& metrics) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<ControlMetricsInterceptorFactory>(metrics));
  return creators;
}

}  // namespace reactord::control
