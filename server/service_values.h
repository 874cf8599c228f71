// The values the server's services hand to the parts around them (the control plane, the
// metrics exporter, the status page): a client's or a listener's address, and what a loop
// reports of its reactor — its events, their counts, its statistics. The reactor defines these
// plain values; the parts around the server name them here and never include a reactor header
// themselves. Only values cross this boundary: no EventBase, Event, BufferEvent or Listener
// (those stay on their loop's thread, reached through post()). Times are the standard steady
// clock's (std::chrono::steady_clock, which the reactor uses too). Any thread (values only).
#pragma once

#include "reactor/inspection.h"
#include "reactor/socket_address.h"

namespace reactord {

using SocketAddress = reactor::SocketAddress;  // an IPv4/IPv6 address and port (sockaddr_storage)
using EventInfo = reactor::EventInfo;          // one reactor event, as EventBase::snapshot() shows it
using EventCounts = reactor::EventCounts;      // events by kind and state
using LoopStats = reactor::LoopStats;          // a loop's iterations, callbacks and their timings

}  // namespace reactord
