// Connection: one echo client (internal to reactord_core). It greets, then moves every byte it
// reads from its input Buffer to its output Buffer without copying. Kept small: an idle
// connection costs this object (56 bytes), its BufferEvent's state (168, the read event in
// place), a registry entry (16) and the base's fd slot (8): 248 heap bytes, against libevent's
// ~1000. 56 because it keeps no pointer it can find elsewhere: it IS its BufferEvent (a private
// base: the one shared Callbacks object finds the Connection from the BufferEvent the reactor
// calls back with, so no vtable pointer per connection), and its loop's ConnectionContext is
// the base's user data (EventBase::user_data), not a reference per connection.
//
// Backpressure: when the output reaches --max-output-buffer, reading is disabled and a write
// callback installed; the write low watermark (half the limit) callback re-enables reading
// once the client has read enough.
// Idle: the loop's IdleTracker keeps connections in order of last activity (one list move per
// read, no timer per connection); when one expires and nothing was written to it meanwhile
// (the client may still be reading a long echo), it is closed (idle_timeout).
//
// Thread rule: loop thread only, for everything. Never destroyed inside its own callbacks: the
// owner (LoopWorker) takes it out of its table and hands it to EventBase::defer_delete.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>

#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/socket_address.h"
#include "reactor/tls_buffer_event.h"
#include "reactor/unique_fd.h"
#include "server/connection_context.h"
#include "server/connection_owner.h"
#include "server/connection_record.h"
#include "server/idle_tracker.h"
#include "server/loop_counters.h"

namespace reactord {

struct ConnectionSideState;  // connection_side_tables.h

class Connection final : public IdleTracker::Hook, private reactor::BufferEvent {
 public:
  // Takes the accepted socket, on `base` (the owner's loop). `context` (the loop's
  // configuration, counters, idle tracker, side tables and the owner told of the close) must
  // outlive it, and so must `base`: the context becomes `base`'s user data
  // (EventBase::set_user_data), found through it, and a base serves one context
  // (std::logic_error otherwise). Call start() next. Loop thread only.
  Connection(ConnectionContext& context, reactor::EventBase& base, std::uint64_t id, reactor::UniqueFd fd,
             const reactor::SocketAddress& peer);
  // A client of --tls-listen: `ssl` (taken) is the server side of its session. The TLS filter
  // (reactor::TlsBufferEvent over this connection's BufferEvent) is kept by the loop, keyed by
  // id (ConnectionSideTables::tls_session), so that a plaintext connection pays nothing for it. Loop
  // thread only.
  Connection(ConnectionContext& context, reactor::EventBase& base, std::uint64_t id, reactor::UniqueFd fd,
             const reactor::SocketAddress& peer, SSL* ssl);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Greets and starts reading; starts the idle tracking. Throws std::system_error if the reactor
  // refuses the fd. Loop thread only.
  void start();

  // Closes: graceful = deliver every queued byte, FIN, wait for the peer's EOF; otherwise a
  // reset. A graceful close ends in a reset only at its deadline, and only if output was
  // still queued then: `deadline` when given (the operator's), else when nothing moved either
  // way for the stall bound (--idle-timeout, or kCloseStallWithoutIdleTimeout when that is
  // off) — a slow reader that keeps reading is never cut off. The owner hears
  // on_connection_closed(reason) once the socket is gone (possibly later). A second call
  // only upgrades a graceful close to an abortive one. Loop thread only.
  void close(CloseReason reason, bool graceful, std::optional<reactor::Duration> deadline = std::nullopt);
  // Shutdown, after the loop ended: marks it closed (reason shutdown) and tells the loop;
  // the socket closes when the object is destroyed (FIN if nothing is left to send). Loop
  // thread only.
  void close_for_shutdown();
  // Draining or back to open. Loop thread only.
  void set_draining(bool draining);

  // The connection's id: its BufferEvent's owner tag (set at construction), not a copy.
  std::uint64_t id() const { return bev().owner(); }
  // Its life (open, draining or closing); record() shows read-paused and closed too.
  ConnectionState state() const { return static_cast<ConnectionState>(state_); }
  // Which costly parts record() fills in. The control plane filters thousands of records per
  // request and needs them only for the connections it returns: `local` is a getsockname(),
  // `created_wall` two clock reads. Left out, they stay default (AF_UNSPEC / the epoch).
  struct RecordParts {
    bool local_address = true;
    bool created_wall = true;
  };
  // Everything the registry shows (all parts, or only `parts`). Loop thread only.
  ConnectionRecord record() const;
  ConnectionRecord record(RecordParts parts) const;
  // Our side of the socket (getsockname(); the loop's listen address once the socket is gone).
  // Loop thread only.
  reactor::SocketAddress local_address() const;
  // Bytes in the input / output buffer now — what record() says, without its getsockname():
  // the metrics scrape sums them over every connection. Loop thread only.
  std::size_t buffered_in() const;
  std::size_t buffered_out() const;
  // The socket and its buffers, for the control plane's detailed view (watermarks, fd for
  // TCP_INFO). Loop thread only.
  const reactor::BufferEvent& buffer_event() const { return bev(); }
  // The same, to set its rate limits (LoopRateLimits, SetRateLimit). Loop thread only.
  reactor::BufferEvent& buffer_event() { return bev(); }
  // The idle timeout passed (IdleTracker): close, unless output made progress. Loop thread
  // only.
  void on_idle();
  // The TLS session of a --tls-listen client, nullptr for a plaintext one. Loop thread only.
  reactor::TlsBufferEvent* tls() const;

 private:
  struct Callbacks;             // the BufferEventHandler of every Connection (connection.cc)
  static Callbacks callbacks_;  // stateless: one for the process
  static Connection& of(reactor::BufferEvent& bev) { return static_cast<Connection&>(bev); }
  // Its socket: the BufferEvent it is (its owner tag is the connection's id).
  reactor::BufferEvent& bev() { return *this; }
  const reactor::BufferEvent& bev() const { return *this; }
  // Its loop's: the base's user data, set by the constructor (8 bytes per connection less
  // than a reference). Loop thread only.
  ConnectionContext& context() const;

  void set_callbacks(bool with_write);
  // The socket's callbacks (through Callbacks: one pointer in the BufferEvent instead of three
  // std::functions).
  void on_read(reactor::BufferEvent&);
  void on_write(reactor::BufferEvent&);
  void on_event(reactor::BufferEvent&, reactor::BevFlags what, int error);
  void echo();  // on_read's body: input to output, backpressure
  void finish(CloseReason reason);
  void set_state(ConnectionState state);
  void account_written();  // adds the bytes written since last time to the loop's bytes_out
  void account_written(LoopCounters& counters);  // the same, with the counters at hand (echo)
  // The plaintext side: the TLS filter's buffers for a TLS client, else the socket's.
  reactor::Buffer& plain_input();
  reactor::Buffer& plain_output();
  void plain_write_buffer(reactor::Buffer& data);  // moves data to the output, sends what it can
  void plain_enable_read(bool on);
  void on_tls_event(reactor::BevFlags what, int error, std::string_view reason);
  void count_handshake(TlsHandshakeResult result);

  CloseReason close_reason() const { return static_cast<CloseReason>(close_reason_); }
  void set_close_reason(CloseReason reason) { close_reason_ = static_cast<std::uint16_t>(reason) & 7u; }

  // The peer: IPv4 in the first 4 bytes, IPv6 in all 16 (its scope id, rarely set, in the
  // loop's side state); the port in network byte order. 18 bytes instead of a sockaddr_in6's 28.
  std::uint8_t peer_addr_[16] = {};
  // Written and already added to the loop counter: the low 32 bits of bev().bytes_written() at
  // the last account_written(), which runs at least once per echo (at most an output buffer,
  // kMaxOutputBufferLimit, and a read apart).
  std::uint32_t bytes_out_counted_ = 0;
  std::uint16_t peer_port_ = 0;
  // The state and the close reason as bit-fields beside the flags (issue #19: 2 bytes less,
  // the Connection in 72): connection.cc checks that every value fits.
  std::uint16_t state_ : 2 = static_cast<std::uint16_t>(ConnectionState::kOpen);
  std::uint16_t close_reason_ : 3 = static_cast<std::uint16_t>(CloseReason::kShutdown);
  bool reading_paused_ : 1 = false;
  bool closing_ : 1 = false;
  bool finished_ : 1 = false;
  // The kernel's send queue held bytes at the last idle check (how many bytes the peer had
  // acknowledged then is in the loop's side state): that queue may hold a long echo the client
  // is still reading, with no send of ours for seconds.
  bool kernel_backlog_at_idle_check_ : 1 = false;
  bool tls_ : 1 = false;                // a --tls-listen client (its session: the side tables)
  bool handshake_counted_ : 1 = false;  // its handshake result is in the loop's counters
  bool has_side_state_ : 1 = false;     // ConnectionSideTables::side_state(id_) exists (drop it with us)
  bool peer_v4_ : 1 = false;            // peer_addr_ holds an IPv4 address
  bool peer_v6_ : 1 = false;            // peer_addr_ holds an IPv6 address
  ConnectionSideState& side_state();    // creates it (has_side_state_)
};

}  // namespace reactord
