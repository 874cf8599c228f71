// The steps every RPC handler takes (formerly rpc_support.h): authorization from the "authorization"
// metadata, the deadline a loop call may use, mapping loop-call failures to statuses, and the audit log line
// of a mutating call. Includes grpcpp: only the service .cc files include this.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "auth.h"
#include "loop_calls.h"
#include "control_plane_state.h"
#include "request_limits.h"

namespace google::protobuf {
class Message;
}

namespace reactord::control {

// OK, or UNAUTHENTICATED (no / wrong token) or PERMISSION_DENIED (viewer on Control).
grpc::Status authorize(const ControlPlaneState& plane, grpc::ServerContext* ctx, Role needed, Role* role);

// The RPC's deadline, or now + 10 s when the client set none (a loop call always ends).
WallDeadline call_deadline(const grpc::ServerContext* ctx);

// DEADLINE_EXCEEDED for a loop that did not answer in time.
grpc::Status loop_status(LoopCallError error);

// "ipv4:127.0.0.1:4242" plus the client certificate's identity under mTLS.
std::string describe_peer(const grpc::ServerContext* ctx);

// One audit line (spdlog, logger "audit" if registered, else the default logger): the RPC,
// its gRPC status name, who (role), from where (peer), the request (bounded: audit_text.h) and
// the outcome. Written for every Control call, refused ones included.
void audit(const grpc::ServerContext* ctx, Role role, const char* rpc,
           const google::protobuf::Message& request, const grpc::Status& status, const std::string& result);

// INVALID_ARGUMENT with the reason cut to kMaxErrorMessageBytes (it may quote the request).
inline grpc::Status invalid(const std::string& why) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, bounded_message(why));
}

}  // namespace reactord::control
