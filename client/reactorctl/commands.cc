#include "commands.h"

#include <grpcpp/grpcpp.h>

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <ostream>
#include <sstream>
#include <thread>
#include <stdexcept>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc_status/status_name.h"
#include "reactord/v1/reactord.grpc.pb.h"
#include "render.h"
#include "units.h"
#include "units/rate.h"
#include "units/units.h"

namespace reactorctl {

namespace v1 = reactord::v1;

using reactord::status_code_name;

namespace {

// Bad flag values found while building a request: usage errors (exit 2).
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int fail(const Output& o, const grpc::Status& status) {
  *o.err << "reactorctl: " << status_code_name(status.error_code()) << ": " << status.error_message() << "\n";
  return kExitRpcError;
}

std::int64_t duration_ms(const std::string& text, const char* flag) {
  if (text.empty()) return 0;
  auto d = reactord::units::parse_duration(text);
  if (!d) throw InputError(reactord::units::flag_error(flag, text, d.error));
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
}

std::uint64_t bytes(const std::string& text, const char* flag) {
  if (text.empty()) return 0;
  auto b = reactord::units::parse_size(text);
  if (!b) throw InputError(reactord::units::flag_error(flag, text, b.error));
  return *b;
}

template <typename Enum>
Enum parse_enum(const std::string& label, const char* prefix, const char* flag,
                bool (*parse)(const std::string&, Enum*)) {
  Enum value{};
  if (label.empty()) return value;
  if (!parse(enum_name(label, prefix), &value)) {
    throw InputError(std::string("unknown value for ") + flag + ": \"" + label + "\"");
  }
  return value;
}

void fill_filter(const FilterArgs& f, v1::ConnectionFilter* out) {
  for (auto id : f.ids) out->add_ids(id);
  out->set_peer(f.peer);
  out->set_local_port(f.local_port);
  if (f.loop) out->set_loop(*f.loop);
  out->set_state(
      parse_enum<v1::ConnectionState>(f.state, "CONNECTION_STATE_", "--state", &v1::ConnectionState_Parse));
  out->set_min_age_ms(duration_ms(f.min_age, "--min-age"));
  out->set_min_idle_ms(duration_ms(f.min_idle, "--min-idle"));
  out->set_min_bytes_in(bytes(f.min_in, "--min-in"));
  out->set_min_bytes_out(bytes(f.min_out, "--min-out"));
  out->set_min_buffered(bytes(f.min_buffered, "--min-buffered"));
  out->set_negate(f.negate);
  out->set_tls(f.tls);
}

// Runs body(), turning InputError into the usage exit code with the message.
template <typename Body>
int guarded(const Output& o, Body body) {
  try {
    return body();
  } catch (const InputError& e) {
    *o.err << "reactorctl: " << e.what() << "\n";
    return kExitUsage;
  }
}

void print_loops(const Output& o, const char* verb, const v1::LoopActionResponse& r) {
  if (o.json) {
    *o.out << to_json(r) << "\n";
    return;
  }
  *o.out << verb << " loop(s):";
  for (auto l : r.loops()) *o.out << " " << l;
  *o.out << "\n";
}

}  // namespace

bool FilterArgs::any() const {
  return !ids.empty() || !peer.empty() || local_port != 0 || loop || !state.empty() || !min_age.empty() ||
         !min_idle.empty() || !min_in.empty() || !min_out.empty() || !min_buffered.empty() || tls || negate;
}

int cmd_info(const Connection& c, const Output& o) {
  auto stub = v1::Inspect::NewStub(c.channel());
  auto ctx = c.context();
  v1::ServerInfo info;
  auto status = stub->GetServerInfo(ctx.get(), v1::GetServerInfoRequest(), &info);
  if (!status.ok()) return fail(o, status);
  if (o.json)
    *o.out << to_json(info) << "\n";
  else
    print_server_info(*o.out, info);
  return 0;
}

int cmd_conns(const Connection& c, const Output& o, const FilterArgs& f, std::uint64_t start,
              std::uint32_t page_size, std::uint64_t max_results) {
  return guarded(o, [&] {
    auto stub = v1::Inspect::NewStub(c.channel());
    v1::ListConnectionsRequest request;
    fill_filter(f, request.mutable_filter());
    request.set_start_id(start);
    request.set_max_results(page_size);
    // Follow the pages until `end` (or max_results), merging them into one answer.
    v1::ListConnectionsResponse all;
    for (;;) {
      auto ctx = c.context();
      v1::ListConnectionsResponse page;
      auto status = stub->ListConnections(ctx.get(), request, &page);
      if (!status.ok()) return fail(o, status);
      if (page.connections_size() == 0 || page.end()) all.set_end(true);
      // The next page starts after this page's last id: read it before the rows are moved
      // out (a moved-from row's id is 0, which restarted the listing from the beginning).
      const std::uint64_t next_start =
          page.connections_size() ? page.connections(page.connections_size() - 1).id() + 1 : 0;
      for (auto& conn : *page.mutable_connections()) {
        if (max_results && static_cast<std::uint64_t>(all.connections_size()) >= max_results) {
          all.set_end(false);
          break;
        }
        *all.add_connections() = std::move(conn);
      }
      bool capped = max_results && static_cast<std::uint64_t>(all.connections_size()) >= max_results;
      if (all.end() || capped) break;
      // Ids only grow; a server that does not move forward would make us loop for ever.
      if (next_start <= request.start_id()) {
        *o.err << "reactorctl: the server returned page starting at " << request.start_id()
               << " without moving forward; stopping\n";
        return 1;
      }
      request.set_start_id(next_start);
    }
    if (o.json)
      *o.out << to_json(all) << "\n";
    else
      print_connections(*o.out, all);
    return 0;
  });
}

namespace {

volatile std::sig_atomic_t g_watch_stop = 0;
extern "C" void on_watch_signal(int) { g_watch_stop = 1; }

// Rows that fit the terminal under the header and the footer; 0 when stdout is no terminal.
std::uint32_t terminal_rows() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 8) return 0;
  return ws.ws_row - 5u;
}

std::string now_text() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int cmd_conns_watch(const Connection& c, const Output& o, const FilterArgs& f, std::uint64_t start,
                    std::uint32_t page_size, std::chrono::milliseconds interval, std::uint64_t iterations) {
  return guarded(o, [&] {
    auto stub = v1::Inspect::NewStub(c.channel());
    const bool tty = o.out == &std::cout && ::isatty(STDOUT_FILENO);
    v1::ListConnectionsRequest request;
    fill_filter(f, request.mutable_filter());
    request.set_start_id(start);
    // One page per refresh: the work is bounded whatever the number of connections.
    std::uint32_t rows = page_size ? page_size : (tty ? terminal_rows() : 0);
    request.set_max_results(std::min<std::uint32_t>(rows ? rows : 100, 1000));
    // Ctrl-C ends the watch cleanly (exit 0), also in the middle of the wait.
    struct sigaction sa {};
    sa.sa_handler = on_watch_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    int code = kExitOk;
    for (std::uint64_t n = 1; !g_watch_stop && (iterations == 0 || n <= iterations); ++n) {
      if (n > 1) {
        auto wake = std::chrono::steady_clock::now() + interval;
        while (!g_watch_stop && std::chrono::steady_clock::now() < wake) {
          std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
              wake - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
        }
        if (g_watch_stop) break;
      }
      v1::ServerInfo info;
      auto info_status = stub->GetServerInfo(c.context().get(), v1::GetServerInfoRequest(), &info);
      v1::ListConnectionsResponse page;
      auto status = stub->ListConnections(c.context().get(), request, &page);
      code = info_status.ok() && status.ok() ? kExitOk : kExitRpcError;
      if (o.json) {
        if (status.ok())
          *o.out << to_json(page) << "\n";
        else
          fail(o, status);
        o.out->flush();
        continue;
      }
      std::ostringstream frame;
      if (tty)
        frame << "\x1b[H\x1b[2J";  // home + clear, as top does
      else if (n > 1)
        frame << "\n";
      frame << "reactorctl conns --watch " << reactord::units::format_duration(interval) << "   "
            << now_text() << "   refresh " << n << "\n";
      if (info_status.ok()) {
        frame << "server: " << info.connections() << " open, " << info.connections_total() << " accepted, "
              << enum_label(v1::ServerState_Name(info.state()), "SERVER_STATE_") << "\n";
      } else {
        frame << "server: " << status_code_name(info_status.error_code()) << ": "
              << info_status.error_message() << "\n";
      }
      if (status.ok()) {
        print_connections(frame, page);
      } else {
        frame << status_code_name(status.error_code()) << ": " << status.error_message() << "\n";
      }
      *o.out << frame.str();
      o.out->flush();
    }
    return code;
  });
}

int cmd_conn(const Connection& c, const Output& o, std::uint64_t id) {
  auto stub = v1::Inspect::NewStub(c.channel());
  auto ctx = c.context();
  v1::GetConnectionRequest request;
  request.set_id(id);
  v1::Connection conn;
  auto status = stub->GetConnection(ctx.get(), request, &conn);
  if (!status.ok()) return fail(o, status);
  if (o.json)
    *o.out << to_json(conn) << "\n";
  else
    print_connection(*o.out, conn);
  return 0;
}

int cmd_events(const Connection& c, const Output& o, const EventArgs& a) {
  return guarded(o, [&] {
    auto stub = v1::Inspect::NewStub(c.channel());
    v1::ListEventsRequest request;
    if (a.loop) request.set_loop(*a.loop);
    request.set_state(parse_enum<v1::EventState>(a.state, "EVENT_STATE_", "--state", &v1::EventState_Parse));
    request.set_kind(parse_enum<v1::EventKind>(a.kind, "EVENT_KIND_", "--kind", &v1::EventKind_Parse));
    if (a.fd) request.set_fd(*a.fd);
    if (a.owner) request.set_owner(*a.owner);
    auto ctx = c.context();
    v1::ListEventsResponse list;
    auto status = stub->ListEvents(ctx.get(), request, &list);
    if (!status.ok()) return fail(o, status);
    if (o.json)
      *o.out << to_json(list) << "\n";
    else
      print_events(*o.out, list);
    return 0;
  });
}

int cmd_stats(const Connection& c, const Output& o, std::optional<std::uint32_t> loop) {
  auto stub = v1::Inspect::NewStub(c.channel());
  v1::GetLoopStatsRequest request;
  if (loop) request.set_loop(*loop);
  auto ctx = c.context();
  v1::GetLoopStatsResponse stats;
  auto status = stub->GetLoopStats(ctx.get(), request, &stats);
  if (!status.ok()) return fail(o, status);
  if (o.json)
    *o.out << to_json(stats) << "\n";
  else
    print_loop_stats(*o.out, stats);
  return 0;
}

int cmd_watch(const Connection& c, const Output& o, const FilterArgs& f, std::uint64_t count) {
  return guarded(o, [&] {
    auto stub = v1::Inspect::NewStub(c.channel());
    v1::WatchConnectionsRequest request;
    fill_filter(f, request.mutable_filter());
    auto ctx = c.context(/*streaming=*/true);
    auto reader = stub->WatchConnections(ctx.get(), request);
    v1::ConnectionEvent event;
    std::uint64_t seen = 0;
    while (reader->Read(&event)) {
      if (o.json)
        *o.out << to_json(event) << "\n";
      else
        print_watch_event(*o.out, event);
      o.out->flush();
      if (count && ++seen >= count) {
        ctx->TryCancel();
        break;
      }
    }
    auto status = reader->Finish();
    if (count && seen >= count) return 0;
    if (!status.ok()) return fail(o, status);
    return 0;
  });
}

int cmd_close(const Connection& c, const Output& o, const CloseArgs& a) {
  return guarded(o, [&] {
    if (a.ids.empty() && !a.filter.any() && !a.all) {
      throw InputError("close: give connection ids, filter flags, or --all");
    }
    auto stub = v1::Control::NewStub(c.channel());
    v1::CloseConnectionsRequest request;
    for (auto id : a.ids) request.add_ids(id);
    fill_filter(a.filter, request.mutable_filter());
    request.set_all(a.all);
    request.set_mode(a.abort ? v1::CLOSE_MODE_ABORT : v1::CLOSE_MODE_GRACEFUL);
    request.set_deadline_ms(duration_ms(a.deadline, "--deadline"));
    request.set_dry_run(a.dry_run);
    request.set_wait(a.wait);
    auto ctx = c.context();
    v1::CloseConnectionsResponse result;
    auto status = stub->CloseConnections(ctx.get(), request, &result);
    if (!status.ok()) return fail(o, status);
    if (o.json)
      *o.out << to_json(result) << "\n";
    else
      print_close(*o.out, result, a.dry_run);
    return 0;
  });
}

int cmd_drain(const Connection& c, const Output& o, const DrainArgs& a) {
  return guarded(o, [&] {
    auto stub = v1::Control::NewStub(c.channel());
    v1::DrainRequest request;
    request.set_deadline_ms(duration_ms(a.deadline, "--deadline"));
    if (!a.close_idle_after.empty()) {
      request.set_close_idle_after_ms(duration_ms(a.close_idle_after, "--close-idle-after"));
    }
    request.set_idle_threshold_ms(duration_ms(a.idle, "--idle"));
    request.set_exit_when_empty(a.exit_when_empty);
    auto ctx = c.context();
    v1::DrainResponse result;
    auto status = stub->Drain(ctx.get(), request, &result);
    if (!status.ok()) return fail(o, status);
    if (o.json) {
      *o.out << to_json(result) << "\n";
    } else {
      *o.out << "state " << enum_label(v1::ServerState_Name(result.state()), "SERVER_STATE_") << ", "
             << result.connections() << " connection(s) open\n";
    }
    return 0;
  });
}

int cmd_resume(const Connection& c, const Output& o) {
  auto stub = v1::Control::NewStub(c.channel());
  auto ctx = c.context();
  v1::ResumeResponse result;
  auto status = stub->Resume(ctx.get(), v1::ResumeRequest(), &result);
  if (!status.ok()) return fail(o, status);
  if (o.json)
    *o.out << to_json(result) << "\n";
  else
    *o.out << "state " << enum_label(v1::ServerState_Name(result.state()), "SERVER_STATE_") << "\n";
  return 0;
}

int cmd_reload(const Connection& c, const Output& o, const std::string& log_level) {
  auto stub = v1::Control::NewStub(c.channel());
  auto ctx = c.context();
  v1::ReloadRequest request;
  request.set_log_level(log_level);
  v1::ReloadResponse result;
  auto status = stub->Reload(ctx.get(), request, &result);
  if (!status.ok()) return fail(o, status);
  if (o.json)
    *o.out << to_json(result) << "\n";
  else
    print_reload(*o.out, result);
  if (!result.ok()) {
    // As a failed call: the reason is in the table (and in reactord's log), the code says so.
    *o.err << "reactorctl: reload: some items kept their old value\n";
    return kExitRpcError;
  }
  return 0;
}

int cmd_exit(const Connection& c, const Output& o, std::optional<std::uint32_t> loop,
             const std::string& delay) {
  return guarded(o, [&] {
    auto stub = v1::Control::NewStub(c.channel());
    v1::ExitLoopRequest request;
    if (loop) request.set_loop(*loop);
    request.set_delay_ms(duration_ms(delay, "--delay"));
    auto ctx = c.context();
    v1::LoopActionResponse result;
    auto status = stub->ExitLoop(ctx.get(), request, &result);
    if (!status.ok()) return fail(o, status);
    print_loops(o, "exit requested for", result);
    return 0;
  });
}

int cmd_break(const Connection& c, const Output& o, std::optional<std::uint32_t> loop) {
  auto stub = v1::Control::NewStub(c.channel());
  v1::BreakLoopRequest request;
  if (loop) request.set_loop(*loop);
  auto ctx = c.context();
  v1::LoopActionResponse result;
  auto status = stub->BreakLoop(ctx.get(), request, &result);
  if (!status.ok()) return fail(o, status);
  print_loops(o, "break requested for", result);
  return 0;
}

int cmd_health(const Connection& c, const Output& o, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(c.channel());
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  auto ctx = c.context();
  grpc::health::v1::HealthCheckResponse response;
  auto status = stub->Check(ctx.get(), request, &response);
  if (!status.ok()) return fail(o, status);
  bool serving = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  if (o.json) {
    *o.out << to_json(response) << "\n";
  } else {
    *o.out << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  }
  return serving ? kExitOk : kExitNotServing;
}

namespace {

std::string rate_text(const v1::RateLimit& r) {
  return reactord::units::format_rate(reactord::units::Rate{r.bytes_per_second(), r.burst()}) + "/s";
}

}  // namespace

int cmd_ratelimit(const Connection& c, const Output& o, const RateLimitArgs& a) {
  return guarded(o, [&] {
    auto limit = reactord::units::parse_rate(a.limit);
    if (!limit) throw InputError(reactord::units::flag_error("LIMIT", a.limit, limit.error));
    const int targets =
        (a.total ? 1 : 0) + (a.new_connections ? 1 : 0) + (!a.ids.empty() || a.filter.any() || a.all ? 1 : 0);
    if (targets == 0) {
      throw InputError("ratelimit: give connection ids, filter flags, --all, --total or --new");
    }
    if (targets > 1)
      throw InputError("ratelimit: --total, --new and connections (ids, filter, --all) exclude each other");
    auto stub = v1::Control::NewStub(c.channel());
    v1::SetRateLimitRequest request;
    request.set_target(a.total             ? v1::RATE_LIMIT_TARGET_TOTAL
                       : a.new_connections ? v1::RATE_LIMIT_TARGET_NEW_CONNECTIONS
                                           : v1::RATE_LIMIT_TARGET_CONNECTIONS);
    for (auto id : a.ids) request.add_ids(id);
    if (a.filter.any()) fill_filter(a.filter, request.mutable_filter());
    request.set_all(a.all);
    if (const auto& rate = *limit) {
      request.mutable_limit()->set_bytes_per_second(rate->bytes_per_second);
      request.mutable_limit()->set_burst(rate->burst);
    }
    auto ctx = c.context();
    v1::SetRateLimitResponse result;
    auto status = stub->SetRateLimit(ctx.get(), request, &result);
    if (!status.ok()) return fail(o, status);
    if (o.json) {
      *o.out << to_json(result) << "\n";
      return 0;
    }
    if (!a.total && !a.new_connections) {
      *o.out << "limit " << reactord::units::format_rate(*limit) << " set on " << result.matched()
             << " connection(s)\n";
    }
    *o.out << "total " << (result.has_total() ? rate_text(result.total()) : std::string("off"))
           << ", new connections "
           << (result.has_per_connection() ? rate_text(result.per_connection()) : std::string("off")) << "\n";
    return 0;
  });
}

}  // namespace reactorctl
