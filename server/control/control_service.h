// reactord.v1.Control: the mutating calls (close connections, drain / resume, loop exit /
// break, reload). Admin token only; every call — refused ones included — leaves an audit line.
#pragma once

#include "control_plane_state.h"
#include "reactord/v1/reactord.grpc.pb.h"

namespace reactord::control {

class ControlService final : public v1::Control::Service {
 public:
  explicit ControlService(ControlPlaneState& plane) : plane_(plane) {}

  grpc::Status CloseConnections(grpc::ServerContext* ctx, const v1::CloseConnectionsRequest* request,
                                v1::CloseConnectionsResponse* response) override;
  grpc::Status Drain(grpc::ServerContext* ctx, const v1::DrainRequest* request,
                     v1::DrainResponse* response) override;
  grpc::Status Resume(grpc::ServerContext* ctx, const v1::ResumeRequest* request,
                      v1::ResumeResponse* response) override;
  grpc::Status ExitLoop(grpc::ServerContext* ctx, const v1::ExitLoopRequest* request,
                        v1::LoopActionResponse* response) override;
  grpc::Status BreakLoop(grpc::ServerContext* ctx, const v1::BreakLoopRequest* request,
                         v1::LoopActionResponse* response) override;
  grpc::Status Reload(grpc::ServerContext* ctx, const v1::ReloadRequest* request,
                      v1::ReloadResponse* response) override;
  // control_rate_limit.cc
  grpc::Status SetRateLimit(grpc::ServerContext* ctx, const v1::SetRateLimitRequest* request,
                            v1::SetRateLimitResponse* response) override;

 private:
  grpc::Status close_connections(grpc::ServerContext* ctx, const v1::CloseConnectionsRequest& request,
                                 v1::CloseConnectionsResponse* response);
  grpc::Status drain(grpc::ServerContext* ctx, const v1::DrainRequest& request, v1::DrainResponse* response);
  grpc::Status set_rate_limit(grpc::ServerContext* ctx, const v1::SetRateLimitRequest& request,
                              v1::SetRateLimitResponse* response);
  grpc::Status loop_action(grpc::ServerContext* ctx, bool has_loop, std::uint32_t loop,
                           std::optional<std::int64_t> delay_ms, v1::LoopActionResponse* response);

  ControlPlaneState& plane_;
};

}  // namespace reactord::control
