// Choosing connections by id, filter or all: the first phase that CloseConnections and
// SetRateLimit share. The request's selection is validated (id count, filter, "select
// something", loop index), each loop lists its own matches (MatchScan, in slices), the
// answers are grouped by owning loop, and ids asked for by number but not open are named.
// Includes grpcpp: only the service .cc files include this.
#pragma once

#include <google/protobuf/repeated_field.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "filter.h"
#include "loop_calls.h"
#include "reactord/v1/reactord.pb.h"

namespace reactord::control {

struct ConnectionSelection {
  FilterSpec filter;                                       // the request's filter with its ids folded in
  std::vector<std::uint64_t> wanted;                       // ids asked for by number: sorted, unique
  std::map<unsigned, std::vector<std::uint64_t>> by_loop;  // matches, by owning loop
  std::vector<std::uint64_t> matched;                      // every match, ascending
  std::vector<std::uint64_t> missing;                      // wanted ids that match nothing open, ascending
};

// Checks the selection part of a request (ids, filter, all); INVALID_ARGUMENT with the reason
// otherwise. `nothing_selected` is the message when the request selects nothing. Any thread.
grpc::Status parse_selection(const google::protobuf::RepeatedField<std::uint64_t>& ids,
                             const v1::ConnectionFilter& filter, bool all, unsigned loop_count,
                             const std::string& nothing_selected, ConnectionSelection* out);

// Asks every loop for its matches (a bounded slice per loop iteration) and fills by_loop,
// matched and missing. DEADLINE_EXCEEDED when a loop does not answer by `deadline`. Any thread.
grpc::Status find_selected(Server& server, WallDeadline deadline, ConnectionSelection* selection);

// NOT_FOUND naming the first `named` missing ids and how many more, then `; nothing was
// <what>` (bounded). Any thread.
grpc::Status missing_status(const std::vector<std::uint64_t>& missing, std::size_t named,
                            const std::string& what);

}  // namespace reactord::control
