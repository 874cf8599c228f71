// The reactor's inspection values (reactor/inspection.h) as reactord.v1 messages: one
// converter for reactord's Inspect service (server/control/) and for libreactor_event_inspect
// (reactor/compat/inspect/), so both answer ListEvents and GetLoopStats alike.
// Protobuf only, no grpcpp. Any thread (values only).
#pragma once

#include <optional>

#include "reactor/inspection.h"
#include "reactord/v1/reactord.pb.h"

namespace reactord {

v1::EventState to_proto(reactor::EventState state);
v1::EventKind to_proto(reactor::EventKind kind);
// nullopt for UNSPECIFIED ("any") and for unknown wire values.
std::optional<reactor::EventState> from_proto(v1::EventState state);
std::optional<reactor::EventKind> from_proto(v1::EventKind kind);

// One event of loop `loop`.
void to_proto(const reactor::EventInfo& event, unsigned loop, v1::Event* out);
// Adds `counts` to *out (a sum over loops when called once per loop).
void add_counts(const reactor::EventCounts& counts, v1::EventCounts* out);
// One loop's statistics and event counts (connections are the server's to fill in).
void to_proto(const reactor::LoopStats& stats, const reactor::EventCounts& counts, unsigned loop,
              v1::LoopStats* out);

}  // namespace reactord
