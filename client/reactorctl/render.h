// Rendering reactord's answers: aligned tables and key/value blocks for people, one JSON
// document (protobuf's canonical JSON, proto field names) per answer for scripts.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "reactord/v1/reactord.pb.h"

namespace reactorctl {

// Canonical JSON of any message on one line (defaults printed, proto field names).
std::string to_json(const google::protobuf::Message& message);

// "CONNECTION_STATE_READ_PAUSED" -> "read-paused" (the enum prefix is dropped).
std::string enum_label(std::string_view full_name, std::string_view prefix);
// "read-paused" -> "CONNECTION_STATE_READ_PAUSED"; the inverse of enum_label.
std::string enum_name(std::string_view label, std::string_view prefix);

void print_reload(std::ostream& out, const reactord::v1::ReloadResponse& reload);
void print_server_info(std::ostream& out, const reactord::v1::ServerInfo& info);
void print_connections(std::ostream& out, const reactord::v1::ListConnectionsResponse& list);
void print_connection(std::ostream& out, const reactord::v1::Connection& conn);
void print_events(std::ostream& out, const reactord::v1::ListEventsResponse& list);
void print_loop_stats(std::ostream& out, const reactord::v1::GetLoopStatsResponse& stats);
void print_watch_event(std::ostream& out, const reactord::v1::ConnectionEvent& event);
void print_close(std::ostream& out, const reactord::v1::CloseConnectionsResponse& result, bool dry_run);

}  // namespace reactorctl
