// Applies GrpcLimits to a grpc::ServerBuilder (channel arguments, resource quota, sync server
// options). Includes grpcpp: control_plane.cc only.
#pragma once

#include <grpcpp/grpcpp.h>

#include "server/control_settings.h"

namespace reactord::control {

// Any thread (before BuildAndStart).
void apply_limits(grpc::ServerBuilder& builder, const GrpcLimits& limits);

}  // namespace reactord::control
