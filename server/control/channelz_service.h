// grpc.channelz.v1.Channelz with the admin token: channelz shows the operators' own sockets
// and addresses, so on a token-protected control plane it answers only to the admin token
// (UNAUTHENTICATED / PERMISSION_DENIED otherwise), like Control. The data comes from gRPC
// core's channelz registry (grpc_channelz_get_*, JSON) as in gRPC's own service, which cannot
// check a token. Includes grpcpp: only control_plane.cc includes it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

namespace reactord::control {

struct ControlPlaneState;

// Register on the builder (with GRPC_ARG_ENABLE_CHANNELZ); must outlive the server.
std::unique_ptr<grpc::Service> make_channelz_service(const ControlPlaneState& plane);

}  // namespace reactord::control
