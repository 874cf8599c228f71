// ControlSettings: everything the control plane is configured with, as one value. Config holds
// it (config.control), parse_config fills it from the --control-* and bound flags, and the
// control plane takes it whole (ControlOptions is these settings plus where to count). A new
// control setting is a field here (or in one of the limits it holds) and its flag in
// server/config.cc or server/bounds_config.cc: nothing copies the settings field by field.
// Plain values: no gRPC, no reactor objects (main.cc and every test include this cheaply).
#pragma once

#include <cstddef>
#include <string>

#include "reactor/socket_address.h"
#include "server/h2_guard/h2_guard_limits.h"

namespace reactord::control {

// WatchConnections bounds: --control-max-watchers, --watch-buffer-bytes, --watch-total-bytes
// (control/watch_budget.h enforces them).
struct WatchLimits {
  std::size_t max_watchers = 16;
  std::size_t buffer_bytes = std::size_t{1} << 20;  // one stream's queue
  std::size_t total_bytes = std::size_t{32} << 20;  // every stream's queue together
};

// GrpcLimits: the bounds we put on the gRPC server of the control plane, so that a client that
// reaches the port — before any token is checked — cannot take threads or memory from the
// process (HTTP/2 rapid reset, CONTINUATION floods, PING floods, huge messages). gRPC 1.51
// (Debian 12) has no defaults for most of these, so every one is ours. Values and flags are
// listed in docs/RELIABILITY.md.
struct GrpcLimits {
  // grpc::ResourceQuota: threads the server may run (--control-threads) and the memory its
  // transport buffers may take (--control-memory).
  std::size_t max_threads = 32;
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

struct ControlSettings {
  // --control-listen.
  reactor::SocketAddress listen = *reactor::SocketAddress::parse("127.0.0.1:50051");
  // --control-token-file / --control-viewer-token-file: bearer tokens (first line of the file)
  // for admin (Inspect + Control) and viewer (Inspect only). Empty = none; without a token (or
  // mTLS) the control plane only binds a loopback address.
  std::string token_file;
  std::string viewer_token_file;
  // --control-tls-cert / --control-tls-key (PEM): serve TLS. --control-tls-client-ca: also
  // require client certificates signed by this CA (mTLS).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // --control-max-watchers, --watch-buffer-bytes, --watch-total-bytes.
  WatchLimits watch;
  // --control-threads, --control-memory, --control-max-message-bytes; the rest fixed
  // (docs/RELIABILITY.md).
  GrpcLimits grpc;
  // The HTTP/2 guard in front of gRPC (h2_guard.h): --control-max-connections(-per-peer); the
  // rest fixed.
  h2guard::H2GuardLimits guard;
};

}  // namespace reactord::control
