// ConnectionObserver: told about connections opening, changing state and closing. Used by the
// control plane's WatchConnections. Register with Server::add_observer (any thread); every
// method then runs on the loop thread that owns the connection, so an observer used by several
// loops must be thread-safe. Keep the methods short: they run on the echo path.
#pragma once

#include <vector>

#include "server/connection_record.h"

namespace reactord {

class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  // Once per loop, when the observer is installed there: that loop's connections at this
  // moment (then every change after it, with nothing missed in between). Loop thread.
  virtual void on_attached(unsigned loop, const std::vector<ConnectionRecord>& current) {}
  // A client connected (greeting queued). Loop thread.
  virtual void on_opened(const ConnectionRecord& record) {}
  // The state changed (open → draining → closing, or back to open on resume), or reading was
  // paused / resumed by backpressure. Loop thread.
  virtual void on_state_changed(const ConnectionRecord& record) {}
  // The connection is gone; record.close_reason says why. Loop thread.
  virtual void on_closed(const ConnectionRecord& record) {}
};

}  // namespace reactord
