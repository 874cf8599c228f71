// ConnectionRecord: what the registry says about one client connection, as a value. It is
// copied out on the connection's loop thread (ConnectionRegistry::snapshot / observers) and can
// then travel to any thread (control plane, metrics, logs).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "reactor/clock.h"
#include "reactor/socket_address.h"

namespace reactord {

// A connection's life: open (echoing) → draining (the server drains; still echoing, the client
// is expected to leave) → closing (graceful close in progress: output flushing, then FIN).
enum class ConnectionState : std::uint8_t { kOpen, kDraining, kClosing };
inline constexpr std::size_t kConnectionStateCount = 3;

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

// "open", "peer_eof", "max_connections", ... (stable: used as metric labels). Any thread.
const char* to_string(ConnectionState state);
const char* to_string(CloseReason reason);
const char* to_string(RejectReason reason);

// One connection's rate limits (server/rate_limits.h), declared once for every value that
// shows a connection (ConnectionRecord here, the control plane's ConnectionView): its own
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

struct ConnectionRecord : ConnectionRateLimitState {
  std::uint64_t id = 0;          // unique in the process, never reused, never 0
  reactor::SocketAddress peer;   // the client
  reactor::SocketAddress local;  // our side (the listening address, port resolved)
  unsigned loop = 0;             // index of the loop that owns it
  ConnectionState state = ConnectionState::kOpen;
  bool reading_paused = false;  // backpressure: output reached --max-output-buffer

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

  std::optional<CloseReason> close_reason;  // set in "closed" notifications only

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
};

}  // namespace reactord
