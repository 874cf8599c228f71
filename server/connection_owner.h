// ConnectionOwner: all a Connection knows of the loop that owns it — what it reads (its loop's
// index, the configuration, the counters it adds to, the idle tracker, the listen address,
// the TLS session kept for it) and the three things it reports (closed, state changed,
// backpressure pause). LoopWorker implements it; a Connection cannot reach the rest of the
// loop (listeners, drain, observers, the control plane's calls), so the two no longer call
// each other through their whole public surfaces.
//
// Thread rule: loop thread only, for everything.
#pragma once

#include <cstdint>
#include <memory>

#include "reactor/socket_address.h"
#include "reactor/tls_buffer_event.h"
#include "server/connection_record.h"

namespace reactord {

struct Config;
class Connection;
class IdleTracker;
struct LoopCounters;

// What few connections need, kept by their owner (ConnectionOwner::side_state) so that an idle
// connection does not carry it: the bytes acknowledged at an idle check that found a kernel
// backlog, and the scope id of a link-local IPv6 peer (issue #19).
struct ConnectionSideState {
  std::uint32_t acked_at_idle_check = 0;  // low 32 bits
  std::uint32_t peer_scope_id = 0;
};

class ConnectionOwner {
 public:
  // What a connection reads.
  virtual unsigned index() const = 0;
  virtual const Config& config() const = 0;
  virtual LoopCounters& mutable_counters() = 0;
  // The --idle-timeout tracker (nullptr when disabled).
  virtual IdleTracker* idle() const = 0;
  virtual const reactor::SocketAddress& listen_address() const = 0;
  // The TLS session of a --tls-listen client, kept by the owner keyed by id (a plaintext
  // connection pays nothing for it).
  virtual reactor::TlsBufferEvent* tls_session(std::uint64_t id) const = 0;
  virtual void attach_tls(std::uint64_t id, std::unique_ptr<reactor::TlsBufferEvent> session) = 0;
  virtual void drop_tls(std::uint64_t id) = 0;
  // What few connections need besides their object (ConnectionSideState), by connection id:
  // created on first use, dropped by the Connection's destructor.
  virtual ConnectionSideState& side_state(std::uint64_t id) = 0;
  virtual void drop_side_state(std::uint64_t id) = 0;

  // What a connection reports. Closed: its socket is gone (the owner takes it out of its
  // table and defers its destruction: the connection may be inside its own callback).
  virtual void on_connection_closed(Connection& connection, CloseReason reason) = 0;
  virtual void on_connection_state_changed(Connection& connection) = 0;
  virtual void on_backpressure_pause() = 0;

 protected:
  ConnectionOwner() = default;
  ~ConnectionOwner() = default;  // never deleted through this interface
  ConnectionOwner(const ConnectionOwner&) = default;
  ConnectionOwner& operator=(const ConnectionOwner&) = default;
};

}  // namespace reactord
