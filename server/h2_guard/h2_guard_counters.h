// H2GuardCounters: what the control port's HTTP/2 guard (server/h2_guard/h2_guard.h) did, as
// relaxed atomics. The guard writes them; the metrics exporter reads them at scrape time
// (reactord_control_h2_* in ControlMetrics). Plain atomics, no dependency: both sides include
// this. Any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace reactord {

struct H2GuardCounters {
  std::atomic<std::int64_t> open{0};                  // guarded connections open now
  std::atomic<std::uint64_t> accepted{0};             // connections handed to gRPC
  std::atomic<std::uint64_t> rejected_limit{0};       // closed at accept: a connection bound
  std::atomic<std::uint64_t> rejected_error{0};       // closed at accept: no socketpair (fds)
  std::atomic<std::uint64_t> rejected_tls{0};         // TLS handshake failed or timed out
  std::atomic<std::uint64_t> frame_size{0};           // GOAWAY FRAME_SIZE_ERROR
  std::atomic<std::uint64_t> header_block{0};         // GOAWAY ENHANCE_YOUR_CALM: header block
  std::atomic<std::uint64_t> rst_rate{0};             // GOAWAY ENHANCE_YOUR_CALM: rapid reset
  std::atomic<std::uint64_t> ping_rate{0};            // GOAWAY ENHANCE_YOUR_CALM: PING flood
  std::atomic<std::uint64_t> settings_rate{0};        // GOAWAY ENHANCE_YOUR_CALM: SETTINGS flood
  std::atomic<std::uint64_t> streams{0};              // GOAWAY ENHANCE_YOUR_CALM: streams open
  std::atomic<std::uint64_t> protocol{0};             // GOAWAY PROTOCOL_ERROR
  std::atomic<std::uint64_t> backpressure_pauses{0};  // reading from a client paused
};

}  // namespace reactord
