#include "control_service.h"

#include <algorithm>
#include <map>

#include "connection_selection.h"
#include "loop_snapshots.h"
#include "proto_convert.h"
#include "handler_steps.h"
#include "server/server.h"

namespace reactord::control {

namespace {

constexpr std::int64_t kDefaultGraceMs = 5000;
constexpr std::int64_t kMaxDelayMs = std::int64_t{1} << 40;  // ~35 years: clamp, never overflow

// CloseConnections{wait}: time kept before the call's deadline to count what is still closing.
constexpr std::chrono::milliseconds kWaitReserve{40};

std::chrono::microseconds ms(std::int64_t v) { return std::chrono::milliseconds(std::min(v, kMaxDelayMs)); }

// Runs `action` (the handler body), then writes the audit line with its outcome.
template <typename Request, typename Body>
grpc::Status audited(ControlPlaneState& plane, grpc::ServerContext* ctx, const char* rpc,
                     const Request& request, Body body) {
  Role role = Role::kNone;
  std::string result;
  grpc::Status status = authorize(plane, ctx, Role::kAdmin, &role);
  if (status.ok()) status = body(result);
  audit(ctx, role, rpc, request, status, result);
  return status;
}

}  // namespace

grpc::Status ControlService::CloseConnections(grpc::ServerContext* ctx,
                                              const v1::CloseConnectionsRequest* request,
                                              v1::CloseConnectionsResponse* response) {
  return audited(plane_, ctx, "CloseConnections", *request, [&](std::string& result) {
    auto s = close_connections(ctx, *request, response);
    result = "matched=" + std::to_string(response->matched()) +
             " closed=" + std::to_string(response->closed()) +
             " still_closing=" + std::to_string(response->still_closing()) +
             (request->dry_run() ? " dry_run" : "");
    return s;
  });
}

grpc::Status ControlService::close_connections(grpc::ServerContext* ctx,
                                               const v1::CloseConnectionsRequest& request,
                                               v1::CloseConnectionsResponse* response) {
  Server& server = plane_.server;
  bool graceful;
  switch (request.mode()) {
    case v1::CLOSE_MODE_UNSPECIFIED:
    case v1::CLOSE_MODE_GRACEFUL:
      graceful = true;
      break;
    case v1::CLOSE_MODE_ABORT:
      graceful = false;
      break;
    default:
      return invalid("unknown close mode " + std::to_string(request.mode()));
  }
  if (request.deadline_ms() < 0) return invalid("deadline_ms must not be negative");
  ConnectionSelection selection;
  auto parsed = parse_selection(request.ids(), request.filter(), request.all(), server.loop_count(),
                                "select connections with ids, a filter, or all = true", &selection);
  if (!parsed.ok()) return parsed;
  auto deadline = call_deadline(ctx);

  // Phase 1: who matches (each loop filters its own connections).
  auto found = find_selected(server, deadline, &selection);
  if (!found.ok()) return found;
  if (!selection.missing.empty()) return missing_status(selection.missing, 10, "closed");
  const std::vector<std::uint64_t>& matched = selection.matched;
  const auto& by_loop = selection.by_loop;
  for (auto id : matched) response->add_matched_ids(id);
  response->set_matched(static_cast<std::uint32_t>(matched.size()));
  if (request.dry_run()) return grpc::Status::OK;

  // Phase 2: close on each owning loop. A graceful close delivers every queued byte until the
  // operator's deadline; only then (and only with output still queued) does it turn abortive.
  std::chrono::microseconds grace = ms(request.deadline_ms() > 0 ? request.deadline_ms() : kDefaultGraceMs);
  std::uint32_t closed = 0;
  for (const auto& [loop, loop_ids] : by_loop) {
    // At most kListingSlice closes per loop iteration (each is a shutdown() or close()).
    struct CloseSlice {
      std::vector<std::uint64_t> ids;
      bool graceful;
      std::chrono::microseconds grace;
      std::size_t next = 0;
      std::uint32_t gone = 0;
      std::optional<std::uint32_t> operator()(LoopWorker& w) {
        const std::size_t end = std::min(ids.size(), next + LoopWorker::kListingSlice);
        for (; next < end; ++next) {
          const std::uint64_t id = ids[next];
          if (!w.close_connection(id, CloseReason::kAdmin, graceful, grace)) {  // closed meanwhile
            ++gone;
            continue;
          }
          if (!w.is_open(id)) ++gone;
        }
        if (next < ids.size()) return std::nullopt;
        return gone;
      }
    };
    auto done = call_loops_sliced<std::uint32_t>(
        server, loop,
        [ids = loop_ids, graceful, grace] {
          return CloseSlice{ids, graceful, grace};
        },
        deadline);
    if (!done.ok()) return loop_status(done.error);
    for (const auto& [l, n] : done.values) closed += n;
  }

  if (request.wait()) {
    // Each loop answers once the matched connections it owns are gone (LoopWorker::when_closed);
    // the handler sleeps until then. Near the deadline it counts what is still closing.
    auto gone = call_loops_until<bool>(
        server, std::nullopt,
        [ids = matched](LoopWorker& w, const LoopReply<bool>& reply) {
          w.when_closed(ids, [reply] { reply(true); });
        },
        deadline - kWaitReserve);
    if (gone.ok()) {
      closed = static_cast<std::uint32_t>(matched.size());
    } else {
      auto left = call_loops<std::uint32_t>(
          server, std::nullopt, [ids = matched](LoopWorker& w) { return w.count_open(ids); }, deadline);
      if (!left.ok()) return loop_status(left.error);
      std::uint32_t still = 0;
      for (const auto& [l, n] : left.values) still += n;
      closed = static_cast<std::uint32_t>(matched.size()) - still;
      if (still != 0) {
        response->set_closed(closed);
        response->set_still_closing(still);
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                            std::to_string(still) + " connection(s) still closing");
      }
    }
  }
  response->set_closed(closed);
  response->set_still_closing(static_cast<std::uint32_t>(matched.size()) - closed);
  return grpc::Status::OK;
}

grpc::Status ControlService::Drain(grpc::ServerContext* ctx, const v1::DrainRequest* request,
                                   v1::DrainResponse* response) {
  return audited(plane_, ctx, "Drain", *request, [&](std::string& result) {
    auto s = drain(ctx, *request, response);
    result = "connections=" + std::to_string(response->connections());
    return s;
  });
}

grpc::Status ControlService::drain(grpc::ServerContext* ctx, const v1::DrainRequest& request,
                                   v1::DrainResponse* response) {
  Server& server = plane_.server;
  if (request.deadline_ms() < 0) return invalid("deadline_ms must not be negative");
  if (request.has_close_idle_after_ms() && request.close_idle_after_ms() < 0) {
    return invalid("close_idle_after_ms must not be negative");
  }
  if (request.idle_threshold_ms() < 0) return invalid("idle_threshold_ms must not be negative");
  if (server.state() != ServerState::kServing) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        std::string("the server is not serving (state ") + to_string(server.state()) + ")");
  }
  std::optional<std::chrono::microseconds> timeout;
  if (request.deadline_ms() > 0) timeout = ms(request.deadline_ms());
  server.drain(timeout, request.exit_when_empty());
  if (plane_.sync_health) plane_.sync_health();

  if (request.has_close_idle_after_ms()) {
    std::chrono::microseconds after = ms(request.close_idle_after_ms());
    std::chrono::microseconds idle = ms(request.idle_threshold_ms() > 0 ? request.idle_threshold_ms() : 1000);
    auto armed = call_loops<bool>(
        server, std::nullopt,
        [after, idle](LoopWorker& w) {
          w.close_idle_later(after, idle);
          return true;
        },
        call_deadline(ctx));
    if (!armed.ok()) return loop_status(armed.error);
  }
  response->set_state(to_proto(server.state()));
  response->set_connections(server.open_connections());
  return grpc::Status::OK;
}

grpc::Status ControlService::Resume(grpc::ServerContext* ctx, const v1::ResumeRequest* request,
                                    v1::ResumeResponse* response) {
  return audited(plane_, ctx, "Resume", *request, [&](std::string& result) {
    std::string why;
    if (!plane_.server.resume(&why)) {
      // Not draining: the caller's mistake. Could not listen again: the port was taken meanwhile.
      const bool draining = plane_.server.state() == ServerState::kDraining;
      return grpc::Status(draining ? grpc::StatusCode::UNAVAILABLE : grpc::StatusCode::FAILED_PRECONDITION,
                          why);
    }
    if (plane_.sync_health) plane_.sync_health();
    response->set_state(to_proto(plane_.server.state()));
    result = "serving";
    return grpc::Status::OK;
  });
}

grpc::Status ControlService::ExitLoop(grpc::ServerContext* ctx, const v1::ExitLoopRequest* request,
                                      v1::LoopActionResponse* response) {
  return audited(plane_, ctx, "ExitLoop", *request, [&](std::string& result) {
    auto s = loop_action(ctx, request->has_loop(), request->loop(), request->delay_ms(), response);
    result = "loops=" + std::to_string(response->loops_size());
    return s;
  });
}

grpc::Status ControlService::BreakLoop(grpc::ServerContext* ctx, const v1::BreakLoopRequest* request,
                                       v1::LoopActionResponse* response) {
  return audited(plane_, ctx, "BreakLoop", *request, [&](std::string& result) {
    auto s = loop_action(ctx, request->has_loop(), request->loop(), std::nullopt, response);
    result = "loops=" + std::to_string(response->loops_size());
    return s;
  });
}

grpc::Status ControlService::Reload(grpc::ServerContext* ctx, const v1::ReloadRequest* request,
                                    v1::ReloadResponse* response) {
  return audited(plane_, ctx, "Reload", *request, [&](std::string& result) {
    if (request->log_level().size() > 64) return invalid("log_level: expected trace ... off");
    ReloadRequest reload;
    reload.source = "rpc";
    reload.log_level = request->log_level();
    const ReloadReport report = plane_.server.reload(reload);
    for (const auto& item : report.items) {
      auto* out = response->add_items();
      out->set_name(item.name);
      out->set_detail(item.detail);
      switch (item.outcome) {
        case ReloadItem::Outcome::kUnchanged:
          out->set_outcome(v1::RELOAD_OUTCOME_UNCHANGED);
          break;
        case ReloadItem::Outcome::kChanged:
          out->set_outcome(v1::RELOAD_OUTCOME_CHANGED);
          break;
        case ReloadItem::Outcome::kKept:
          out->set_outcome(v1::RELOAD_OUTCOME_KEPT);
          break;
        case ReloadItem::Outcome::kNeedsRestart:
          out->set_outcome(v1::RELOAD_OUTCOME_NEEDS_RESTART);
          break;
      }
    }
    response->set_ok(report.ok());
    response->set_time_unix_ms(plane_.server.reload_stats().last_unix_ms);
    // The call worked whatever the items say: their outcomes are the answer.
    result = std::string("ok=") + (report.ok() ? "true " : "false ") + report.summary();
    return grpc::Status::OK;
  });
}

grpc::Status ControlService::loop_action(grpc::ServerContext*, bool has_loop, std::uint32_t loop,
                                         std::optional<std::int64_t> delay_ms,
                                         v1::LoopActionResponse* response) {
  Server& server = plane_.server;
  if (delay_ms && *delay_ms < 0) return invalid("delay_ms must not be negative");
  if (has_loop && loop >= server.loop_count()) {
    return invalid("loop " + std::to_string(loop) + " does not exist (the server has " +
                   std::to_string(server.loop_count()) + ")");
  }
  if (server.state() == ServerState::kStopping || server.state() == ServerState::kStopped) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the server is already stopping");
  }
  std::vector<unsigned> targets;
  for (unsigned i = 0; i < server.loop_count(); ++i) {
    if (has_loop && i != loop) continue;
    if (!server.loop(i).ended()) targets.push_back(i);
  }
  if (targets.empty()) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        has_loop ? "loop " + std::to_string(loop) + " has already ended" : std::string("no loop is running"));
  }
  for (unsigned i : targets) {
    if (delay_ms) {
      std::optional<std::chrono::microseconds> delay;
      if (*delay_ms > 0) delay = ms(*delay_ms);
      server.exit_loop(i, delay);
    } else {
      server.break_loop(i);
    }
    response->add_loops(i);
  }
  return grpc::Status::OK;
}

}  // namespace reactord::control
