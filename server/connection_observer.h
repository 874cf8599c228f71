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
  // When the observer is installed on a loop, that loop's connections are listed in slices of
  // at most LoopWorker::kListingSlice, one slice per loop iteration (so that echo clients are
  // served in between): on_existing for every slice but the last, then on_attached once with
  // the last one. Changes are reported from the installation on, so a connection may be
  // reported changed or closed before its slice is listed (then it is not listed: it is
  // gone), and one opened after the installation is reported opened, never listed. Loop thread.
  virtual void on_existing(unsigned /*loop*/, const std::vector<ConnectionRecord>& /*some*/) {}
  // Whether the next slice of the listing may come now; false holds it back (retried every
  // 10 ms), so a reader slower than the loop is not overrun by the listing. Loop thread.
  virtual bool ready_for_listing() const { return true; }
  virtual void on_attached(unsigned /*loop*/, const std::vector<ConnectionRecord>& /*current*/) {}
  // A client connected (greeting queued). Loop thread.
  virtual void on_opened(const ConnectionRecord& /*record*/) {}
  // The state changed (open → draining → closing, or back to open on resume), or reading was
  // paused / resumed by backpressure. Loop thread.
  virtual void on_state_changed(const ConnectionRecord& /*record*/) {}
  // The connection is gone; record.close_reason says why. Loop thread.
  virtual void on_closed(const ConnectionRecord& /*record*/) {}
};

}  // namespace reactord
