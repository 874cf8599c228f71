// H2FrameLimits and H2GuardLimits: the bounds of the control port's HTTP/2 guard (h2_guard.h,
// h2_frame_check.h) as plain values, apart from the guard so that the control plane's settings
// (server/control_settings.h, part of Config) hold them without the reactor or OpenSSL.
#pragma once

#include <chrono>
#include <cstddef>

namespace reactord::h2guard {

struct H2FrameLimits {
  // The largest frame a client may send: gRPC is told to advertise this
  // (GRPC_ARG_HTTP2_MAX_FRAME_SIZE), so a longer frame breaks RFC 9113 §4.2.
  std::size_t max_frame_bytes = 16384;
  // One header block (HEADERS or PUSH_PROMISE plus its CONTINUATIONs): encoded bytes and
  // frames. gRPC accepts 16 KiB of decoded metadata; HPACK never needs 4x that encoded.
  std::size_t max_header_block_bytes = 64 * 1024;
  int max_header_block_frames = 32;
  // Per connection: PING and SETTINGS frames (not ACKs). A gRPC client sends one SETTINGS at
  // start and one per window change, and BDP PINGs with data; far below these.
  double ping_burst = 100, ping_per_second = 10;
  double settings_burst = 32, settings_per_second = 2;
  // RST_STREAM per connection (the client address has a larger budget of its own, shared by
  // its connections: H2GuardLimits).
  double rst_burst = 100, rst_per_second = 50;
  // Streams open at once per connection (gRPC advertises 16; before its SETTINGS arrive a
  // client may open more, RFC 9113 §5.1.2).
  std::size_t max_open_streams = 128;
};

struct H2GuardLimits {
  H2FrameLimits frames;
  // RST_STREAM frames per client address (all its connections, so reconnecting does not
  // refill it): burst and refill per second. Each connection also has its own, smaller budget
  // (H2FrameLimits), so one attacking connection is cut off long before its address' budget
  // is spent and a well-behaved client at the same address can still cancel a call.
  double rst_burst = 5000, rst_per_second = 1000;
  // Bytes waiting in the guard for either side before it stops reading from the client.
  std::size_t relay_buffer_bytes = 256 * 1024;
  // Control connections open at once, and from one client address (--control-max-connections,
  // --control-max-connections-per-peer).
  std::size_t max_connections = 256;
  std::size_t max_connections_per_peer = 64;
  // TLS only: a handshake not done within this long is closed (counted as tls_handshake).
  std::chrono::milliseconds tls_handshake_timeout{10000};
};

}  // namespace reactord::h2guard
