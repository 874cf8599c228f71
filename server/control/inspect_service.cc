#include "inspect_service.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "connection_page.h"
#include "connection_watcher.h"
#include "loop_snapshots.h"
#include "proto_convert.h"
#include "handler_steps.h"
#include "server/server.h"

#ifndef REACTORD_CONTROL_VERSION
#define REACTORD_CONTROL_VERSION "unknown"
#endif
#ifndef REACTORD_CONTROL_BUILD
#define REACTORD_CONTROL_BUILD "unknown"
#endif

namespace reactord::control {

namespace {

std::int64_t to_ms(std::chrono::microseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A loop index from a request: OK and *only set, or INVALID_ARGUMENT.
grpc::Status check_loop(const Server& server, bool has, std::uint32_t loop, std::optional<unsigned>* only) {
  if (!has) return grpc::Status::OK;
  if (loop >= server.loop_count()) {
    return invalid("loop " + std::to_string(loop) + " does not exist (the server has " +
                   std::to_string(server.loop_count()) + ")");
  }
  *only = loop;
  return grpc::Status::OK;
}

}  // namespace

grpc::Status InspectService::GetServerInfo(grpc::ServerContext* ctx, const v1::GetServerInfoRequest*,
                                           v1::ServerInfo* out) {
  Role role;
  if (auto s = authorize(plane_, ctx, Role::kViewer, &role); !s.ok()) return s;
  Server& server = plane_.server;
  const Config& config = server.config();
  out->set_version(REACTORD_CONTROL_VERSION);
  out->set_build(REACTORD_CONTROL_BUILD);
  out->set_pid(::getpid());
  out->set_start_time_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(plane_.started_wall.time_since_epoch()).count());
  out->set_uptime_ms(to_ms(std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - plane_.started)));
  out->set_loops(static_cast<std::uint32_t>(server.loop_count()));
  std::set<std::string> addresses;
  std::uint64_t accepted = 0;
  for (unsigned i = 0; i < server.loop_count(); ++i) {
    const auto& address = server.loop(i).listen_address();
    if (address.family() != AF_UNSPEC) addresses.insert(address.to_string());
    accepted += server.loop(i).counters().accepted.get();
  }
  if (addresses.empty()) addresses.insert(server.listen_address().to_string());
  for (const auto& a : addresses) out->add_listen_addresses(a);
  out->set_control_address(plane_.control_address());
  out->set_state(to_proto(server.state()));
  out->set_accepting(server.accepting());
  auto& limits = *out->mutable_limits();
  limits["max_connections"] = static_cast<std::int64_t>(config.max_connections);
  limits["max_output_buffer"] = static_cast<std::int64_t>(config.max_output_buffer);
  limits["idle_timeout_ms"] = to_ms(config.idle_timeout);
  limits["drain_timeout_ms"] = to_ms(config.drain_timeout);
  limits["loops"] = config.loops;
  out->set_log_level(to_string(server.log_level()));
  const ReloadStats reloads = server.reload_stats();
  out->set_reloads_ok(reloads.ok);
  out->set_reloads_failed(reloads.failed);
  out->set_last_reload_unix_ms(reloads.last_unix_ms);
  out->set_last_reload_ok(reloads.last_ok);
  out->set_connections(server.open_connections());
  out->set_connections_total(accepted);
  auto backend = call_loops<std::string>(
      server, std::nullopt, [](LoopWorker& w) { return w.backend_name(); }, call_deadline(ctx));
  if (!backend.ok()) return loop_status(backend.error);
  if (!backend.values.empty()) out->set_backend(backend.values.front().second);
  // Rate limits in force now (SetRateLimit changes them; every loop holds the same).
  auto rates = call_loops<std::pair<std::optional<units::Rate>, std::optional<units::Rate>>>(
      server, 0u,
      [](LoopWorker& w) { return std::make_pair(w.rate_limits().per_connection(), w.rate_limits().total()); },
      call_deadline(ctx));
  if (rates.ok() && !rates.values.empty()) {
    const auto& [per_connection, total] = rates.values.front().second;
    if (per_connection) {
      limits["rate_limit_per_connection_bytes_per_second"] =
          static_cast<std::int64_t>(per_connection->bytes_per_second);
      limits["rate_limit_per_connection_burst"] = static_cast<std::int64_t>(per_connection->burst);
    }
    if (total) {
      limits["rate_limit_total_bytes_per_second"] = static_cast<std::int64_t>(total->bytes_per_second);
      limits["rate_limit_total_burst"] = static_cast<std::int64_t>(total->burst);
    }
  }
  return grpc::Status::OK;
}

grpc::Status InspectService::ListConnections(grpc::ServerContext* ctx,
                                             const v1::ListConnectionsRequest* request,
                                             v1::ListConnectionsResponse* out) {
  Role role;
  if (auto s = authorize(plane_, ctx, Role::kViewer, &role); !s.ok()) return s;
  std::string why;
  auto filter = filter_from_proto(request->filter(), &why);
  if (!filter) return invalid(why);
  std::optional<unsigned> only;
  if (auto s = check_loop(plane_.server, request->filter().has_loop(), request->filter().loop(), &only);
      !s.ok()) {
    return s;
  }
  std::uint32_t page =
      request->max_results() == 0 ? kDefaultPageSize : std::min(request->max_results(), kMaxPageSize);
  std::uint64_t start = request->start_id();
  // Each loop filters its own connections and returns at most page + 1 of them, in id order;
  // the merge keeps the first `page` and knows from the extra one whether more remain.
  // In slices: a filter that matches little scans every connection, and the loop serves its
  // clients between slices.
  auto results = call_loops_sliced<std::vector<ConnectionRecord>>(
      plane_.server, only,
      [start, spec = *filter, limit = std::size_t{page} + 1] { return PageScan(start, spec, limit); },
      call_deadline(ctx));
  if (!results.ok()) return loop_status(results.error);
  std::vector<std::vector<ConnectionRecord>> per_loop;
  per_loop.reserve(results.values.size());
  for (auto& [loop, records] : results.values) per_loop.push_back(std::move(records));
  ConnectionPage result = merge_page(std::move(per_loop), page);
  auto now = std::chrono::steady_clock::now();
  for (const auto& r : result.connections) to_proto(r, now, out->add_connections());
  out->set_end(result.end);
  return grpc::Status::OK;
}

grpc::Status InspectService::GetConnection(grpc::ServerContext* ctx, const v1::GetConnectionRequest* request,
                                           v1::Connection* out) {
  Role role;
  if (auto s = authorize(plane_, ctx, Role::kViewer, &role); !s.ok()) return s;
  std::uint64_t id = request->id();
  auto results = call_loops<std::optional<ConnectionRecord>>(
      plane_.server, std::nullopt, [id](LoopWorker& w) { return w.connection_detail(id); },
      call_deadline(ctx));
  if (!results.ok()) return loop_status(results.error);
  for (const auto& [loop, record] : results.values) {
    if (record) {
      to_proto(*record, std::chrono::steady_clock::now(), out);
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no open connection with id " + std::to_string(id));
}

grpc::Status InspectService::ListEvents(grpc::ServerContext* ctx, const v1::ListEventsRequest* request,
                                        v1::ListEventsResponse* out) {
  Role role;
  if (auto s = authorize(plane_, ctx, Role::kViewer, &role); !s.ok()) return s;
  std::optional<unsigned> only;
  if (auto s = check_loop(plane_.server, request->has_loop(), request->loop(), &only); !s.ok()) {
    return s;
  }
  auto state = from_proto(request->state());
  if (!state && request->state() != v1::EVENT_STATE_UNSPECIFIED) {
    return invalid("unknown event state " + std::to_string(request->state()));
  }
  auto kind = from_proto(request->kind());
  if (!kind && request->kind() != v1::EVENT_KIND_UNSPECIFIED) {
    return invalid("unknown event kind " + std::to_string(request->kind()));
  }
  auto results = call_loops<LoopEvents>(
      plane_.server, only, [](LoopWorker& w) { return loop_events(w); }, call_deadline(ctx));
  if (!results.ok()) return loop_status(results.error);
  for (const auto& [loop, le] : results.values) {
    add_counts(le.counts, out->mutable_counts());
    for (const auto& e : le.events) {
      if (state && e.state != *state) continue;
      if (kind && e.kind != *kind) continue;
      if (request->has_fd() && e.fd != request->fd()) continue;
      if (request->has_owner() && e.owner != request->owner()) continue;
      to_proto(e, loop, out->add_events());
    }
  }
  return grpc::Status::OK;
}

grpc::Status InspectService::GetLoopStats(grpc::ServerContext* ctx, const v1::GetLoopStatsRequest* request,
                                          v1::GetLoopStatsResponse* out) {
  Role role;
  if (auto s = authorize(plane_, ctx, Role::kViewer, &role); !s.ok()) return s;
  std::optional<unsigned> only;
  if (auto s = check_loop(plane_.server, request->has_loop(), request->loop(), &only); !s.ok()) {
    return s;
  }
  auto results = call_loops<LoopStatsView>(
      plane_.server, only, [](LoopWorker& w) { return loop_stats(w); }, call_deadline(ctx));
  if (!results.ok()) return loop_status(results.error);
  for (const auto& [loop, v] : results.values) {
    auto* l = out->add_loops();
    to_proto(v.stats, v.counts, loop, l);
    l->set_connections(v.connections);
  }
  return grpc::Status::OK;
}

grpc::Status InspectService::WatchConnections(grpc::ServerContext* ctx,
                                              const v1::WatchConnectionsRequest* request,
                                              grpc::ServerWriter<v1::ConnectionEvent>* writer) {
  Role role;
  if (auto s = authorize(plane_, ctx, Role::kViewer, &role); !s.ok()) return s;
  std::string why;
  auto filter = filter_from_proto(request->filter(), &why);
  if (!filter) return invalid(why);
  if (request->filter().has_loop() && request->filter().loop() >= plane_.server.loop_count()) {
    return invalid("loop " + std::to_string(request->filter().loop()) + " does not exist");
  }
  if (request->queue_limit() > kMaxWatchQueueItems) {
    return invalid("queue_limit " + std::to_string(request->queue_limit()) + " is above " +
                   std::to_string(kMaxWatchQueueItems));
  }
  std::uint32_t limit = request->queue_limit() == 0 ? kDefaultWatchQueueItems : request->queue_limit();
  WatchBudget& budget = *plane_.watch_budget;
  if (!budget.admit()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "too many watch streams open (--control-max-watchers " +
                            std::to_string(budget.limits().max_watchers) + ")");
  }
  std::vector<unsigned> running;
  for (unsigned i = 0; i < plane_.server.loop_count(); ++i) {
    if (!plane_.server.loop(i).ended()) running.push_back(i);
  }
  auto watcher = std::make_shared<ConnectionWatcher>(*filter, limit, running, &budget);
  watcher->set_cancel_hook([ctx] { ctx->TryCancel(); });
  plane_.add_watcher(watcher);
  std::uint64_t observer_id = plane_.server.add_observer(watcher);

  bool write_failed = false;
  std::string failure;
  while (!ctx->IsCancelled() && !plane_.stopping.load() && !write_failed) {
    std::uint64_t dropped_tail = 0;
    auto items = watcher->take(std::chrono::milliseconds(200), &dropped_tail);
    if (watcher->listing()) {
      // A loop that ended after it was counted above never lists (its add_observer never
      // runs, or stops between slices): without this the synced marker would never come.
      for (unsigned i : running) {
        if (plane_.server.loop(i).ended()) watcher->on_loop_ended(i);
      }
    }
    std::size_t unreleased = 0;
    for (const auto& item : items) unreleased += item.bytes;
    failure = watcher->failure();
    if (!failure.empty()) {
      // The watcher failed after these were taken: they are not sent, and their bytes go back
      // now, before budget.leave() below says the watcher is gone (a loop may hold the watcher,
      // and so its destructor's give-back, for a while after this handler returns).
      watcher->release(unreleased);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    for (auto& item : items) {
      v1::ConnectionEvent event;
      switch (item.kind) {
        case ConnectionWatcher::Kind::kExisting:
          event.set_kind(v1::ConnectionEvent::KIND_EXISTING);
          break;
        case ConnectionWatcher::Kind::kSynced:
          event.set_kind(v1::ConnectionEvent::KIND_SYNCED);
          break;
        case ConnectionWatcher::Kind::kOpened:
          event.set_kind(v1::ConnectionEvent::KIND_OPENED);
          break;
        case ConnectionWatcher::Kind::kClosed:
          event.set_kind(v1::ConnectionEvent::KIND_CLOSED);
          break;
        case ConnectionWatcher::Kind::kStateChanged:
          event.set_kind(v1::ConnectionEvent::KIND_STATE_CHANGED);
          break;
      }
      if (item.kind != ConnectionWatcher::Kind::kSynced) {
        to_proto(item.record, now, event.mutable_connection());
      }
      event.set_reason(item.reason);
      event.set_dropped(item.dropped);
      event.set_time_unix_ms(
          std::chrono::duration_cast<std::chrono::milliseconds>(item.time.time_since_epoch()).count());
      const std::size_t bytes = item.bytes;
      item = {};  // its memory goes before the write, which may wait for the client
      watcher->release(bytes);
      unreleased -= bytes;
      watcher->writing(true);
      bool written = writer->Write(event);
      watcher->writing(false);
      if (!written) {
        write_failed = true;
        break;
      }
    }
    watcher->release(unreleased);  // what a failed write left unsent
    if (dropped_tail > 0 && !write_failed) {
      // Losses with nothing after them yet: report them on their own.
      v1::ConnectionEvent event;
      event.set_dropped(dropped_tail);
      watcher->writing(true);
      if (!writer->Write(event)) write_failed = true;
      watcher->writing(false);
    }
  }
  plane_.server.remove_observer(observer_id);
  plane_.remove_watcher(watcher);  // from here on no one cancels through ctx
  budget.leave();
  if (failure.empty()) failure = watcher->failure();  // failed while this handler was writing
  if (!failure.empty()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, bounded_message(failure));
  }
  if (plane_.stopping.load()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
  }
  return grpc::Status::OK;
}

}  // namespace reactord::control
