// ConnectionRecord: what the server says about one client connection, as a value — the one
// value type for a connection (the observers, the watch streams, ListConnections' pages,
// GetConnection, the metrics and the tests all read it). It is copied out on the connection's
// loop thread (Connection::record, LoopWorker's scans) and can then travel to any thread
// (control plane, metrics, logs). GetConnection's costly extras (fd, watermarks, TCP_INFO,
// events) are an optional part, filled only for it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <vector>

#include "reactor/clock.h"
#include "reactor/inspection.h"
#include "reactor/socket_address.h"
#include "server/tcp_info.h"

namespace reactord {

// A connection's state as an operator sees it (ListConnections, the state filter, watch
// streams). Its life: open (echoing) → draining (the server drains; still echoing, the client
// is expected to leave) → closing (graceful close in progress: output flushing, then FIN) →
// closed (in "closed" notifications only). Read-paused: open, but not reading because its
// output reached --max-output-buffer (backpressure). A Connection stores only the first three
// (its life, in a 2-bit field: kLastStored); record() derives the other two.
enum class ConnectionState : std::uint8_t { kOpen, kDraining, kClosing, kReadPaused, kClosed };
inline constexpr std::size_t kConnectionStateCount = 5;
inline constexpr ConnectionState kLastStoredConnectionState = ConnectionState::kClosing;

// Why a connection ended.
enum class CloseReason : std::uint8_t {
  kPeerEof,      // the client closed its side
  kError,        // socket error (reset, ...)
  kIdleTimeout,  // nothing sent or received for --idle-timeout
  kAdmin,        // closed on request (control plane)
  kDrain,        // still open when the drain deadline passed
  kShutdown,     // the server stopped (SIGINT, loop exit)
  kNoMemory,     // a buffer allocation for this client failed (ENOMEM): it pays, not the process
};
inline constexpr std::size_t kCloseReasonCount = 7;

// Why a new client was turned away at accept.
enum class RejectReason : std::uint8_t {
  kMaxConnections,  // --max-connections reached
  kDraining,        // accepted while the server was draining/stopping
  kSetupError,      // could not set the connection up (e.g. epoll refused the fd)
  kFdReserve,       // taking it would eat into the fds kept for the control plane (--fd-reserve)
};
inline constexpr std::size_t kRejectReasonCount = 4;

// "open", "read-paused", "peer_eof", "max_connections", ... (stable: used as metric labels and
// by reactorctl). Any thread.
const char* to_string(ConnectionState state);
const char* to_string(CloseReason reason);
const char* to_string(RejectReason reason);

// One connection's rate limits (server/rate_limits.h), declared once for every value that
// shows a connection (ConnectionRecord here; a base so it reads as one group): its own
// limit (bytes/s and burst, each direction; unset = none), whether it shares the
// listener-wide total, whether a limit holds it back now, the time it spent held back, and
// the bytes whose transfer waited for tokens. A base (not a member) so that the fields keep
// their names where records are read.
struct ConnectionRateLimitState {
  std::optional<std::uint64_t> rate_limit_bytes_per_second;
  std::uint64_t rate_limit_burst = 0;
  bool rate_limit_total = false;
  bool throttled = false;
  reactor::Duration throttled_time{};
  std::uint64_t bytes_delayed = 0;
};

// GetConnection's details of one connection: the socket, its buffers' settings, TCP_INFO and
// the connection's own reactor events (not the loop's idle sweep timer, which every connection
// shares). Read on the loop thread (the fd is open there); filled only by
// LoopWorker::connection_detail, into ConnectionRecord::details. (At namespace scope, not
// nested: std::optional of a nested class with member initializers is not constructible inside
// its enclosing class for clang.)
struct ConnectionDetails {
  int fd = -1;
  std::uint64_t read_low_watermark = 0;
  std::uint64_t read_high_watermark = 0;
  std::uint64_t write_low_watermark = 0;
  bool read_suspended_by_watermark = false;
  TcpInfo tcp;
  std::vector<reactor::EventInfo> events;
};

struct ConnectionRecord : ConnectionRateLimitState {
  std::uint64_t id = 0;                            // unique in the process, never reused, never 0
  reactor::SocketAddress peer;                     // the client
  reactor::SocketAddress local;                    // our side (the listening address, port resolved)
  unsigned loop = 0;                               // index of the loop that owns it
  ConnectionState state = ConnectionState::kOpen;  // kReadPaused / kClosed derived, see above
  bool reading_paused = false;                     // backpressure: output reached --max-output-buffer

  std::uint64_t bytes_in = 0;          // read from the client so far
  std::uint64_t bytes_out = 0;         // written to the client so far
  std::size_t bytes_buffered_in = 0;   // in the input buffer now
  std::size_t bytes_buffered_out = 0;  // in the output buffer now (not yet sent)

  reactor::TimePoint created;                          // steady clock
  reactor::TimePoint last_activity;                    // last byte in or out (steady clock)
  std::chrono::system_clock::time_point created_wall;  // for display

  // Ids of its reactor events, as EventBase::snapshot() shows them (0 = none).
  std::uint64_t read_event_id = 0;
  std::uint64_t write_event_id = 0;
  std::uint64_t idle_timer_event_id = 0;  // the loop's idle sweep timer, shared
  // When --idle-timeout closes it if it stays idle (unset: no idle timeout, or closing).
  std::optional<reactor::TimePoint> idle_deadline;

  std::optional<CloseReason> close_reason;  // set in "closed" notifications only (state kClosed)

  // A client of --tls-listen. The rest is empty until its handshake is done.
  struct Tls {
    bool handshake_done = false;
    std::string version;       // "TLSv1.3"
    std::string cipher;        // "TLS_AES_256_GCM_SHA384"
    std::string sni;           // the server name the client asked for
    std::string peer_subject;  // client certificate subject (RFC 2253), with --tls-client-ca
    std::string alpn;          // protocol selected by ALPN (--tls-alpn), empty if none
    bool ktls = false;         // kernel TLS offload on (send or receive)
  };
  std::optional<Tls> tls;  // nullopt: a plaintext client

  std::optional<ConnectionDetails> details;  // GetConnection only (see ConnectionDetails)

  // Reading suspended, by backpressure or (details only) by the read high watermark.
  bool read_suspended() const { return reading_paused || (details && details->read_suspended_by_watermark); }
  // The record of a connection that is gone: state closed, `reason` why.
  void mark_closed(CloseReason reason) {
    close_reason = reason;
    state = ConnectionState::kClosed;
  }
};

}  // namespace reactord
