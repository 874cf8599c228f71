// H2FrameCheck: reads the client→server byte stream of one HTTP/2 connection (the connection
// preface, then 9-byte frame headers; payloads are skipped, never copied) and says when the
// client breaks one of our bounds, before gRPC 1.51's transport sees the frame. gRPC 1.51
// (Debian 12) has no knob for these (docs/RELIABILITY.md, "HTTP/2 guard"):
//   - a frame longer than the max frame size we make gRPC advertise  → FRAME_SIZE_ERROR
//   - a header block (HEADERS + CONTINUATION) above a byte or frame count → ENHANCE_YOUR_CALM
//   - RST_STREAM from the client above a rate (CVE-2023-44487, "rapid reset") → ENHANCE_YOUR_CALM
//   - PING or SETTINGS above a rate                                   → ENHANCE_YOUR_CALM
//   - more streams open than max_open_streams (opened by the client, not yet ended by the
//     server or reset by the client: gRPC 1.51 enforces its own MAX_CONCURRENT_STREAMS only
//     once the client ACKs the SETTINGS, which a client that never reads never does)
//                                                                     → ENHANCE_YOUR_CALM
//   - a bad preface, a frame inside a header block, a stray CONTINUATION → PROTOCOL_ERROR
// H2FrameBoundary follows the server→client stream, so a GOAWAY of ours is only ever inserted
// between two whole frames, and reads the server's SETTINGS_MAX_FRAME_SIZE: gRPC raises it as
// its flow control learns the link (BDP), and a client may then send frames that long.
//
// Pure logic: no sockets, no threads. One object per connection, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include "reactor/clock.h"
#include "server/h2_guard/h2_guard_limits.h"

namespace reactord::h2guard {

// HTTP/2 error codes (RFC 9113 §7) the guard sends in its GOAWAY.
enum class H2Error : std::uint32_t {
  kProtocolError = 0x1,
  kFrameSizeError = 0x6,
  kEnhanceYourCalm = 0xb,
};

// A bound reached: the connection ends with a GOAWAY carrying `code`. `reason` is the metric
// label ("frame_size", "header_block", "rst_rate", "ping_rate", "settings_rate", "protocol").
struct H2Violation {
  H2Error code;
  const char* reason;
  std::string detail;  // one line for the log and the GOAWAY's debug data
};

// A token bucket: `burst` tokens, refilled at `per_second`. One thread.
class TokenBucket {
 public:
  TokenBucket(double burst, double per_second, reactor::TimePoint now)
      : burst_(burst), rate_(per_second), tokens_(burst), last_(now) {}
  // Takes one token; false when none is left.
  bool take(reactor::TimePoint now);
  // True when the bucket has refilled completely (nothing to remember about this client).
  bool full(reactor::TimePoint now) const;

 private:
  void refill(reactor::TimePoint now);
  double burst_;
  double rate_;
  double tokens_;
  reactor::TimePoint last_;
};

class H2FrameCheck {
 public:
  H2FrameCheck(const H2FrameLimits& limits, reactor::TimePoint now);

  // Reads the next bytes the client sent. `rst_budget` is the peer's RST_STREAM bucket
  // (shared by the peer's connections, so reconnecting does not refill it). Returns the
  // first bound broken, or nullopt. After a violation, do not call again.
  std::optional<H2Violation> feed(const std::uint8_t* data, std::size_t size, reactor::TimePoint now,
                                  TokenBucket& rst_budget);

  // The server advertised a larger SETTINGS_MAX_FRAME_SIZE: frames up to it are the client's
  // right (RFC 9113 §6.5.2). Never lowers the bound.
  void allow_frames_up_to(std::size_t bytes) {
    if (bytes > limits_.max_frame_bytes) limits_.max_frame_bytes = bytes;
  }

  // A frame the server sent (from H2FrameBoundary): ends a stream on END_STREAM or RST_STREAM.
  void server_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream);
  std::size_t open_streams() const { return open_streams_.size(); }

  // The highest stream id the client opened (for the GOAWAY's last-stream-id).
  std::uint32_t last_stream_id() const { return last_stream_id_; }
  std::uint64_t frames() const { return frames_; }

 private:
  std::optional<H2Violation> on_header(reactor::TimePoint now, TokenBucket& rst_budget);

  H2FrameLimits limits_;
  std::size_t preface_seen_ = 0;
  std::uint8_t header_[9] = {};
  std::size_t header_fill_ = 0;
  std::size_t payload_left_ = 0;
  // Inside a header block: its stream, bytes and frames so far.
  bool in_header_block_ = false;
  std::uint32_t header_block_stream_ = 0;
  std::size_t header_block_bytes_ = 0;
  int header_block_frames_ = 0;
  std::uint32_t last_stream_id_ = 0;
  std::uint64_t frames_ = 0;
  TokenBucket pings_;
  TokenBucket settings_;
  TokenBucket resets_;
  std::unordered_set<std::uint32_t> open_streams_;
};

// Follows frame boundaries of a stream of frames (the server's side: no preface).
class H2FrameBoundary {
 public:
  // Reads the server's bytes; each frame header is also told to `check` (when not null).
  void feed(const std::uint8_t* data, std::size_t size, H2FrameCheck* check = nullptr);
  // True when every byte fed so far ends a whole frame.
  bool at_boundary() const { return header_fill_ == 0 && payload_left_ == 0; }
  // The largest SETTINGS_MAX_FRAME_SIZE the server sent (0 = none yet).
  std::size_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  void on_settings();

  std::uint8_t header_[9] = {};
  std::size_t header_fill_ = 0;
  std::size_t payload_left_ = 0;
  bool in_settings_ = false;
  std::string settings_;  // the payload of a SETTINGS frame being read (at most 1 KiB kept)
  std::size_t max_frame_bytes_ = 0;
};

// A GOAWAY frame (RFC 9113 §6.8) with debug data (cut to 256 bytes).
std::string goaway_frame(std::uint32_t last_stream_id, H2Error code, const std::string& debug);

}  // namespace reactord::h2guard
