// Control.SetRateLimit: changes rate limits at run time (server/rate_limits.h) — the own limit
// of connections chosen by id or filter, the listener-wide total, or the default new clients
// get. Admin only, audited like every Control call; a bad value is INVALID_ARGUMENT and
// changes nothing.
#include "connection_selection.h"
#include "control_service.h"
#include "loop_calls.h"
#include "loop_snapshots.h"
#include "proto_convert.h"
#include "handler_steps.h"
#include "request_limits.h"
#include "server/server.h"

namespace reactord::control {
namespace {

void to_proto(const std::optional<units::Rate>& rate, v1::RateLimit* out) {
  out->set_bytes_per_second(rate->bytes_per_second);
  out->set_burst(rate->burst);
}

const char* target_name(v1::RateLimitTarget target) {
  switch (target) {
    case v1::RATE_LIMIT_TARGET_TOTAL:
      return "total";
    case v1::RATE_LIMIT_TARGET_NEW_CONNECTIONS:
      return "new_connections";
    default:
      return "connections";
  }
}

}  // namespace

grpc::Status ControlService::SetRateLimit(grpc::ServerContext* ctx, const v1::SetRateLimitRequest* request,
                                          v1::SetRateLimitResponse* response) {
  Role role = Role::kNone;
  std::string result;
  grpc::Status status = authorize(plane_, ctx, Role::kAdmin, &role);
  if (status.ok()) {
    status = set_rate_limit(ctx, *request, response);
    std::optional<units::Rate> rate;
    if (request->has_limit()) {
      rate = units::Rate{request->limit().bytes_per_second(), request->limit().burst() != 0
                                                                  ? request->limit().burst()
                                                                  : request->limit().bytes_per_second()};
    }
    result = std::string("target=") + target_name(request->target()) + " limit=" + units::format_rate(rate) +
             " matched=" + std::to_string(response->matched());
  }
  audit(ctx, role, "SetRateLimit", *request, status, result);
  return status;
}

grpc::Status ControlService::set_rate_limit(grpc::ServerContext* ctx, const v1::SetRateLimitRequest& request,
                                            v1::SetRateLimitResponse* response) {
  Server& server = plane_.server;
  std::optional<units::Rate> rate;
  if (request.has_limit()) {
    const std::uint64_t bps = request.limit().bytes_per_second();
    const std::uint64_t burst = request.limit().burst() != 0 ? request.limit().burst() : bps;
    if (auto why = units::check_rate(bps, burst)) return invalid("limit: " + *why);
    rate = units::Rate{bps, burst};
  }
  const v1::RateLimitTarget target = request.target();
  if (target != v1::RATE_LIMIT_TARGET_UNSPECIFIED && target != v1::RATE_LIMIT_TARGET_CONNECTIONS &&
      target != v1::RATE_LIMIT_TARGET_TOTAL && target != v1::RATE_LIMIT_TARGET_NEW_CONNECTIONS) {
    return invalid("unknown target " + std::to_string(target));
  }
  const bool selects = request.ids_size() > 0 || request.has_filter() || request.all();
  const auto deadline = call_deadline(ctx);

  if (target == v1::RATE_LIMIT_TARGET_TOTAL || target == v1::RATE_LIMIT_TARGET_NEW_CONNECTIONS) {
    if (selects) {
      return invalid(std::string("target ") + target_name(target) +
                     " applies to the whole listener: give no ids, filter or all");
    }
    const bool total = target == v1::RATE_LIMIT_TARGET_TOTAL;
    auto done = call_loops<bool>(
        server, std::nullopt,
        [rate, total](LoopWorker& w) {
          if (total) {
            w.set_total_rate_limit(rate);
          } else {
            w.rate_limits().set_per_connection(rate);
          }
          return true;
        },
        deadline);
    if (!done.ok()) return loop_status(done.error);
  } else {
    ConnectionSelection selection;
    auto parsed = parse_selection(
        request.ids(), request.filter(), request.all(), server.loop_count(),
        "select connections with ids, a filter, or all = true (or target total / new_connections)",
        &selection);
    if (!parsed.ok()) return parsed;
    auto found = find_selected(server, deadline, &selection);
    if (!found.ok()) return found;
    if (!selection.missing.empty()) return missing_status(selection.missing, 1, "changed");
    const std::vector<std::uint64_t>& matched = selection.matched;
    const auto& by_loop = selection.by_loop;
    for (const auto& [loop, list] : by_loop) {
      auto done = call_loops<bool>(
          server, loop,
          [list = list, rate](LoopWorker& w) {
            w.set_rate_limit(list, rate);
            return true;
          },
          deadline);
      if (!done.ok()) return loop_status(done.error);
    }
    for (auto id : matched) response->add_matched_ids(id);
    response->set_matched(static_cast<std::uint32_t>(matched.size()));
  }

  // What is in force now (every loop holds the same settings; loop 0 answers).
  auto now = call_loops<std::pair<std::optional<units::Rate>, std::optional<units::Rate>>>(
      server, 0u,
      [](LoopWorker& w) { return std::make_pair(w.rate_limits().total(), w.rate_limits().per_connection()); },
      deadline);
  if (now.ok() && !now.values.empty()) {
    const auto& [total, per_connection] = now.values.front().second;
    if (total) to_proto(total, response->mutable_total());
    if (per_connection) to_proto(per_connection, response->mutable_per_connection());
  }
  return grpc::Status::OK;
}

}  // namespace reactord::control
