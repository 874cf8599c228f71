// A gRPC server interceptor that times every control-plane RPC and records it in the
// ControlPlaneCounters it is given (server/control_plane_counters.h; the metrics exporter's
// ControlMetrics implements them), so handlers need no metrics code and the control plane
// includes nothing of the exporter. Install with
//   builder.experimental().SetInterceptorCreators(make_control_interceptors(counters));
#pragma once

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include "grpc_status/status_name.h"
#include "server/control_plane_counters.h"

namespace reactord::control {

// "OK", "NOT_FOUND", ...: the label values (grpc_status/status_name.h). Any thread.
using reactord::status_code_name;

// "/reactord.v1.Admin/GetStats" → {"reactord.v1.Admin", "GetStats"}; a name without the two
// slashes is returned whole as the method, with service "unknown". Any thread.
std::pair<std::string_view, std::string_view> split_grpc_method(std::string_view full);

// Interceptor creators to hand to ServerBuilder. `counters` must outlive the gRPC server.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> make_control_interceptors(
    ControlPlaneCounters& counters);

}  // namespace reactord::control
