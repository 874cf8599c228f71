#include "grpc_server_limits.h"

#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <climits>

namespace reactord::control {

namespace {
int as_int(std::size_t v) { return static_cast<int>(std::min<std::size_t>(v, INT_MAX)); }
}  // namespace

void apply_limits(grpc::ServerBuilder& builder, const GrpcLimits& limits) {
  // Threads and memory: a rapid-reset client otherwise makes the sync server start a thread
  // per stream (thousands) and the transport keep what it parsed.
  grpc::ResourceQuota quota("reactord-control");
  quota.SetMaxThreads(as_int(limits.max_threads));
  quota.Resize(limits.memory_bytes);
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, limits.num_cqs);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, limits.min_pollers);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, limits.max_pollers);

  builder.SetMaxReceiveMessageSize(as_int(limits.max_receive_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, as_int(limits.max_header_list_bytes));
  // The frame size gRPC advertises first (it raises it later with BDP; the HTTP/2 guard reads
  // the SETTINGS it sends and refuses only frames longer than advertised).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_FRAME_SIZE, as_int(limits.max_frame_bytes));

  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             limits.min_ping_interval_ms);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, limits.max_ping_strikes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, limits.keepalive_time_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, limits.keepalive_timeout_ms);
  // GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS stays 0: a client with no call open may not ping
  // at all (a ping strike), which ends PING floods from connections that never call.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, limits.max_connection_idle_ms);
}

}  // namespace reactord::control
