// GrpcLimits: the bounds we put on the gRPC server of the control plane, so that a client that
// reaches the port — before any token is checked — cannot take threads or memory from the
// process (HTTP/2 rapid reset, CONTINUATION floods, PING floods, huge messages). gRPC 1.51
// (Debian 12) has no defaults for most of these, so every one is ours. Values and flags are
// listed in docs/RELIABILITY.md. No gRPC in this header (main.cc includes it cheaply).
#pragma once

#include <cstddef>

namespace reactord::control {

struct GrpcLimits {
  // grpc::ResourceQuota: threads the server may run (--control-threads) and the memory its
  // transport buffers may take (--control-memory).
  int max_threads = 32;
  std::size_t memory_bytes = std::size_t{64} << 20;
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection.
  int max_concurrent_streams = 16;
  // HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE: a request's metadata (headers), CONTINUATION
  // frames included.
  std::size_t max_header_list_bytes = 16 * 1024;
  // SETTINGS_MAX_FRAME_SIZE: the HTTP/2 guard closes a client that sends a longer frame.
  std::size_t max_frame_bytes = 16384;
  // A request message (--control-max-message-bytes); the largest legal request (10,000 ids)
  // is under 100 KiB.
  std::size_t max_receive_message_bytes = std::size_t{1} << 20;
  // Ping policy: a client may ping at most every min_ping_interval_ms without data; after
  // max_ping_strikes early pings the connection is closed (GOAWAY ENHANCE_YOUR_CALM).
  int min_ping_interval_ms = 10000;
  int max_ping_strikes = 2;
  // Keepalive: the server pings idle connections every keepalive_time_ms and closes those
  // that do not answer within keepalive_timeout_ms (a peer that stopped reading).
  int keepalive_time_ms = 60000;
  int keepalive_timeout_ms = 20000;
  // Connections with no RPC for this long are closed (GOAWAY).
  int max_connection_idle_ms = 10 * 60 * 1000;
  // Sync server: completion queues and polling threads.
  int num_cqs = 1;
  int min_pollers = 1;
  int max_pollers = 2;
};

}  // namespace reactord::control
