#include "rpc_support.h"

#include <google/protobuf/message.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <string_view>

namespace reactord::control {

grpc::Status authorize(const PlaneContext& plane, grpc::ServerContext* ctx, Role needed,
                       Role* role) {
  std::optional<std::string_view> header;
  const auto& md = ctx->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) {
    header = std::string_view(it->second.data(), it->second.size());
  }
  switch (plane.auth.check(header, needed, role)) {
    case AuthResult::kOk:
      return grpc::Status::OK;
    case AuthResult::kMissing:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "missing bearer token (metadata \"authorization: Bearer <token>\")");
    case AuthResult::kInvalid:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid bearer token");
    case AuthResult::kForbidden:
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "the viewer token may only call reactord.v1.Inspect");
  }
  return grpc::Status(grpc::StatusCode::INTERNAL, "auth");
}

WallDeadline call_deadline(const grpc::ServerContext* ctx) {
  auto now = std::chrono::system_clock::now();
  auto fallback = now + std::chrono::seconds(10);
  auto deadline = ctx->deadline();
  return deadline < fallback ? deadline : fallback;
}

grpc::Status loop_status(LoopCallError error) {
  if (error == LoopCallError::kTimeout) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "an event loop did not answer before the deadline");
  }
  return grpc::Status::OK;
}

std::string describe_peer(const grpc::ServerContext* ctx) {
  std::string peer = ctx->peer();
  auto auth = ctx->auth_context();
  if (auth && auth->IsPeerAuthenticated()) {
    // The client certificate's common name says who; fall back to the peer identity (SANs).
    auto names = auth->FindPropertyValues("x509_common_name");
    if (names.empty()) names = auth->GetPeerIdentity();
    for (const auto& id : names) peer += " cert=" + std::string(id.data(), id.size());
  }
  return peer;
}

void audit(const grpc::ServerContext* ctx, Role role, const char* rpc,
           const google::protobuf::Message& request, const grpc::Status& status,
           const std::string& result) {
  auto logger = spdlog::get("audit");
  if (!logger) logger = spdlog::default_logger();
  std::string request_text = request.ShortDebugString();
  std::string outcome = status.ok() ? std::string("OK")
                                    : "error " + std::to_string(status.error_code()) + " \"" +
                                          status.error_message() + "\"";
  logger->info("audit: role={} peer={} rpc={} request={{{}}} status={} result=\"{}\"",
               to_string(role), describe_peer(ctx), rpc, request_text, outcome, result);
}

}  // namespace reactord::control
