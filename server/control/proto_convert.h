// Conversions between the control plane's plain values (ConnectionView, reactor::EventInfo,
// FilterSpec) and the reactord.v1 protobuf messages. Protobuf only, no grpcpp.
// Any thread (values only).
#pragma once

#include <optional>
#include <string>

#include "connection_view.h"
#include "filter.h"
#include "reactor/clock.h"
#include "reactor/inspection.h"
#include "reactord/v1/reactord.pb.h"

namespace reactord::control {

void to_proto(const ConnectionView& view, reactor::TimePoint now, v1::Connection* out);
void to_proto(const reactor::EventInfo& event, unsigned loop, v1::Event* out);
void add_counts(const reactor::EventCounts& counts, v1::EventCounts* out);

v1::ConnectionState to_proto(ConnState state);
v1::EventState to_proto(reactor::EventState state);
v1::EventKind to_proto(reactor::EventKind kind);
// nullopt for UNSPECIFIED ("any"); unknown wire values are refused by filter_from_proto.
std::optional<reactor::EventState> from_proto(v1::EventState state);
std::optional<reactor::EventKind> from_proto(v1::EventKind kind);

// Validates and converts a ConnectionFilter: nullopt with the reason in *error (an
// INVALID_ARGUMENT) for a bad CIDR, a negative duration, an unknown state, ...
std::optional<FilterSpec> filter_from_proto(const v1::ConnectionFilter& filter, std::string* error);

}  // namespace reactord::control
