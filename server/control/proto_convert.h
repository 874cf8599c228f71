// Conversions between the control plane's plain values (ConnectionRecord, EventInfo,
// FilterSpec) and the reactord.v1 protobuf messages. Protobuf only, no grpcpp.
// Any thread (values only).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "convert/event_proto.h"
#include "filter.h"
#include "reactord/v1/reactord.pb.h"
#include "server/connection_record.h"

namespace reactord {
enum class ServerState : int;  // server/server.h
}  // namespace reactord

namespace reactord::control {

v1::ServerState to_proto(ServerState state);

// The details part, when the record has one, fills GetConnection's extra fields.
void to_proto(const ConnectionRecord& record, std::chrono::steady_clock::time_point now, v1::Connection* out);

v1::ConnectionState to_proto(ConnectionState state);
// Events, event counts and loop statistics: the converter shared with libreactor_event_inspect
// (proto/convert/event_proto.h). Unknown wire values are refused by filter_from_proto.
using reactord::add_counts;
using reactord::from_proto;
using reactord::to_proto;

// Validates and converts a ConnectionFilter: nullopt with the reason in *error (an
// INVALID_ARGUMENT) for a bad CIDR, a negative duration, an unknown state, ...
std::optional<FilterSpec> filter_from_proto(const v1::ConnectionFilter& filter, std::string* error);

}  // namespace reactord::control
