// reactord.v1.Inspect: read-only views of the server, its connections and its loops.
// Every handler runs on a gRPC thread and reaches the loops only through call_loops().
#pragma once

#include "control_plane_state.h"
#include "reactord/v1/reactord.grpc.pb.h"

namespace reactord::control {

class InspectService final : public v1::Inspect::Service {
 public:
  explicit InspectService(ControlPlaneState& plane) : plane_(plane) {}

  grpc::Status GetServerInfo(grpc::ServerContext* ctx, const v1::GetServerInfoRequest* request,
                             v1::ServerInfo* response) override;
  grpc::Status ListConnections(grpc::ServerContext* ctx, const v1::ListConnectionsRequest* request,
                               v1::ListConnectionsResponse* response) override;
  grpc::Status GetConnection(grpc::ServerContext* ctx, const v1::GetConnectionRequest* request,
                             v1::Connection* response) override;
  grpc::Status ListEvents(grpc::ServerContext* ctx, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status GetLoopStats(grpc::ServerContext* ctx, const v1::GetLoopStatsRequest* request,
                            v1::GetLoopStatsResponse* response) override;
  grpc::Status WatchConnections(grpc::ServerContext* ctx, const v1::WatchConnectionsRequest* request,
                                grpc::ServerWriter<v1::ConnectionEvent>* writer) override;

 private:
  ControlPlaneState& plane_;
};

}  // namespace reactord::control
