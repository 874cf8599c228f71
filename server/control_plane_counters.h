// ControlPlaneCounters: what the control plane reports about itself — each finished RPC
// (record), the WatchConnections bounds' counters and the control port's HTTP/2 guard's
// counters. The control plane writes them; the metrics exporter implements record() and serves
// them all (metrics::ControlMetrics). Neither side includes the other: both include this, and
// main.cc hands the exporter's object to the control plane (ControlOptions::metrics).
// No gRPC, no prometheus-cpp in here.
#pragma once

#include <string_view>

#include "server/h2_guard/h2_guard_counters.h"
#include "server/watch_counters.h"

namespace reactord {

class ControlPlaneCounters {
 public:
  virtual ~ControlPlaneCounters() = default;
  ControlPlaneCounters(const ControlPlaneCounters&) = delete;
  ControlPlaneCounters& operator=(const ControlPlaneCounters&) = delete;

  // One finished RPC: `code` is the gRPC status name ("OK", "NOT_FOUND", ...), `seconds` the
  // time from its arrival to its status being sent. Any thread.
  virtual void record(std::string_view service, std::string_view method, std::string_view code,
                      double seconds) = 0;

  // The WatchConnections bounds' counters: the control plane writes them. Any thread.
  WatchCounters watch;
  // The control port's HTTP/2 guard: it writes them. Any thread.
  H2GuardCounters h2guard;

 protected:
  ControlPlaneCounters() = default;
};

}  // namespace reactord
