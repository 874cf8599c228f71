#include "connection_selection.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "loop_snapshots.h"
#include "proto_convert.h"
#include "request_limits.h"
#include "handler_steps.h"

namespace reactord::control {

grpc::Status parse_selection(const google::protobuf::RepeatedField<std::uint64_t>& ids,
                             const v1::ConnectionFilter& filter, bool all, unsigned loop_count,
                             const std::string& nothing_selected, ConnectionSelection* out) {
  if (static_cast<std::size_t>(ids.size()) > kMaxIdsPerCall) {
    return invalid("ids holds " + std::to_string(ids.size()) + " ids; at most " +
                   std::to_string(kMaxIdsPerCall) + " per call (select more with a filter)");
  }
  std::string why;
  auto spec = filter_from_proto(filter, &why);
  if (!spec) return invalid(why);
  out->wanted.assign(ids.begin(), ids.end());
  std::sort(out->wanted.begin(), out->wanted.end());
  out->wanted.erase(std::unique(out->wanted.begin(), out->wanted.end()), out->wanted.end());
  if (!out->wanted.empty()) spec->ids = out->wanted;
  if (spec->empty() && !spec->negate && !all) return invalid(nothing_selected);
  if (filter.has_loop() && filter.loop() >= loop_count) {
    return invalid("loop " + std::to_string(filter.loop()) + " does not exist");
  }
  out->filter = std::move(*spec);
  return grpc::Status::OK;
}

grpc::Status find_selected(Server& server, WallDeadline deadline, ConnectionSelection* selection) {
  // Each loop filters its own connections.
  auto ids = call_loops_sliced<std::vector<std::uint64_t>>(
      server, std::nullopt, [spec = selection->filter] { return MatchScan(spec); }, deadline);
  if (!ids.ok()) return loop_status(ids.error);
  for (auto& [loop, list] : ids.values) {
    if (list.empty()) continue;
    selection->matched.insert(selection->matched.end(), list.begin(), list.end());
    selection->by_loop[loop] = std::move(list);
  }
  std::sort(selection->matched.begin(), selection->matched.end());
  std::set_difference(selection->wanted.begin(), selection->wanted.end(), selection->matched.begin(),
                      selection->matched.end(), std::back_inserter(selection->missing));
  return grpc::Status::OK;
}

grpc::Status missing_status(const std::vector<std::uint64_t>& missing, std::size_t named,
                            const std::string& what) {
  // The first few ids and a count: the message stays short whatever was asked.
  std::string list;
  for (std::size_t i = 0; i < missing.size() && i < named; ++i) {
    list += (i == 0 ? "" : ", ") + std::to_string(missing[i]);
  }
  if (missing.size() > named) list += " and " + std::to_string(missing.size() - named) + " more";
  return grpc::Status(
      grpc::StatusCode::NOT_FOUND,
      bounded_message("no open connection (matching the filter) with id " + list + "; nothing was " + what));
}

}  // namespace reactord::control
