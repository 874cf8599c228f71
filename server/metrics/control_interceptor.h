// A gRPC server interceptor that times every control-plane RPC and records it in
// ControlMetrics, so handlers need no metrics code. Install with
//   builder.experimental().SetInterceptorCreators(make_control_interceptors(metrics));
// Kept out of control_metrics.h so that only the control plane pays for the gRPC headers.
#pragma once

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include "grpc_status/status_name.h"
#include "server/metrics/control_metrics.h"

namespace reactord::metrics {

// "OK", "NOT_FOUND", ...: the label values (grpc_status/status_name.h). Any thread.
using reactord::status_code_name;

// "/reactord.v1.Admin/GetStats" → {"reactord.v1.Admin", "GetStats"}; a name without the two
// slashes is returned whole as the method, with service "unknown". Any thread.
std::pair<std::string_view, std::string_view> split_grpc_method(std::string_view full);

// Interceptor creators to hand to ServerBuilder. `metrics` must outlive the gRPC server.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> make_control_interceptors(
    ControlMetrics& metrics);

}  // namespace reactord::metrics
