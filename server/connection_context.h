// ConnectionContext: what a Connection needs of the loop that owns it, given at construction —
// one per loop, shared by its connections, so each Connection holds one reference (8 bytes)
// for all of it: the loop's index, the configuration, the counters it adds to, the idle
// tracker, the listen address, the out-of-line TLS sessions and side states, and the owner it
// reports its close to (ConnectionOwner: two methods).
//
// Thread rule: loop thread only (the LoopWorker, or a test, owns it; it outlives every
// Connection built with it).
#pragma once

#include "reactor/socket_address.h"

namespace reactord {

struct Config;
class ConnectionOwner;
class ConnectionSideTables;
class IdleTracker;
struct LoopCounters;

struct ConnectionContext {
  unsigned loop_index = 0;
  const Config& config;
  LoopCounters& counters;
  // The --idle-timeout tracker; nullptr when disabled, and set to nullptr by the owner before
  // it destroys the tracker (a connection destroyed later then does not touch it).
  IdleTracker* idle = nullptr;
  // The address the loop accepts on (a connection whose socket is gone shows it as local).
  const reactor::SocketAddress& listen_address;
  ConnectionSideTables& side_tables;
  ConnectionOwner& owner;
};

}  // namespace reactord
