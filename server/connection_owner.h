// ConnectionOwner: what a Connection reports to the loop that owns it — its close (the owner
// takes it out of its table and destroys it later: the connection may be inside its own
// callback) and a state change (observers see it). Everything a Connection reads of its loop
// (configuration, counters, idle tracker, the TLS sessions and side states kept out of line)
// is given at construction in its ConnectionContext (connection_context.h), so a Connection
// cannot reach the rest of the loop and the loop's owner needs nothing but these two.
//
// Thread rule: loop thread only, for everything.
#pragma once

#include "server/connection_record.h"

namespace reactord {

class Connection;

class ConnectionOwner {
 public:
  // The socket is gone (`reason` says why). Called once per connection.
  virtual void on_connection_closed(Connection& connection, CloseReason reason) = 0;
  // The state changed (open / draining / closing), reading paused or resumed by
  // backpressure, or a TLS handshake completed.
  virtual void on_connection_state_changed(Connection& connection) = 0;

 protected:
  ConnectionOwner() = default;
  ~ConnectionOwner() = default;  // never deleted through this interface
  ConnectionOwner(const ConnectionOwner&) = default;
  ConnectionOwner& operator=(const ConnectionOwner&) = default;
};

}  // namespace reactord
