// reactorctl: talk to reactord's control plane.
//
//   reactorctl [global flags] COMMAND [flags]     (global flags may also follow the command)
//
// Exit codes (README "reactorctl"): 0 ok, 1 the call failed (gRPC status on stderr),
// 2 usage error (one line naming the flag or argument), 3 `health` answered NOT_SERVING.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "channel.h"
#include "client/cli_common.h"
#include "client/main_guard.h"
#include "commands.h"
#include "fleet.h"
#include "units/units.h"

namespace {

namespace cli = reactord::cli;

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The unsigned type inside an option's variable: T, std::optional<T>, std::vector<T>.
template <typename Value>
struct Element {
  using type = Value;
};
template <typename T>
struct Element<std::optional<T>> {
  using type = T;
};
template <typename T>
struct Element<std::vector<T>> {
  using type = T;
};

// Unsigned options refuse "-1" and garbage (CLI11 alone wraps negatives around) and values
// beyond the type.
template <typename Value>
CLI::Option* whole(CLI::App* cmd, const std::string& name, Value& v, const std::string& help) {
  using T = typename Element<Value>::type;
  static_assert(std::is_unsigned_v<T>);
  return cmd->add_option(name, v, help)->check(cli::whole_number(std::numeric_limits<T>::max()));
}

void add_filter_flags(CLI::App* cmd, reactorctl::FilterArgs& f, bool with_ids) {
  if (with_ids) whole(cmd, "--id", f.ids, "Connection id (repeatable)");
  cmd->add_option("--peer", f.peer, "Peer address or CIDR: 10.0.0.7, 10.0.0.0/8, [::1]:5000");
  whole(cmd, "--port", f.local_port, "Local (listening) port");
  whole(cmd, "--loop", f.loop, "Loop index");
  cmd->add_option("--state", f.state, "open | read-paused | draining | closing");
  cmd->add_option("--min-age", f.min_age, "Open for at least this long (e.g. 30s)")->check(cli::duration());
  cmd->add_option("--min-idle", f.min_idle, "No traffic for at least this long")->check(cli::duration());
  cmd->add_option("--min-in", f.min_in, "At least this many bytes read (e.g. 64K)")->check(cli::size());
  cmd->add_option("--min-out", f.min_out, "At least this many bytes written")->check(cli::size());
  cmd->add_option("--min-buffered", f.min_buffered, "At least this many bytes buffered")->check(cli::size());
  cmd->add_flag("--tls", f.tls, "Only clients of --tls-listen (with --not: only plaintext ones)");
  cmd->add_flag("--not", f.negate, "Invert the filter");
}

constexpr const char* kExamples = R"(Examples:
  reactorctl info
  reactorctl conns --peer 10.0.0.0/8 --min-idle 30s
  reactorctl conns --watch 2s                    # refreshing table, one page per refresh
  reactorctl conn 42
  reactorctl close --filter --min-idle 5m --dry-run
  reactorctl drain --deadline 30s
  reactorctl reload                              # re-read token / TLS files and the log level
  reactorctl ratelimit 256KiB --filter --peer 10.0.0.0/8
  reactorctl health --target 10.0.0.5:50051 --token-file /etc/reactord/viewer.token

Global flags may be given before or after the command. Durations: 500ms, 30s, 2m, 1h30m,
0 (a bare number other than 0 is refused). Sizes: 65536, 64K = 64KiB, 1.5M (powers of 1024).
Exit codes: 0 ok, 1 the call failed (gRPC status on stderr), 2 usage error, 3 NOT_SERVING.)";

int run(int argc, char** argv) {
  CLI::App app{"reactorctl: inspect and control a running reactord through its gRPC control plane"};
  app.require_subcommand(0, 1);
  // Words that are no command (CLI11 alone would only say "A subcommand is required").
  std::vector<std::string> stray;
  app.add_option("stray", stray)->group("");
  app.fallthrough();  // global flags after the command: `reactorctl conns --target X --json`
  app.set_version_flag("--version", std::string("reactorctl ") + REACTORD_VERSION);
  app.footer(kExamples);

  reactorctl::ConnectOptions conn;
  conn.target = env_or("REACTORCTL_TARGET", "127.0.0.1:50051");
  conn.token_file = env_or("REACTORCTL_TOKEN_FILE", "");
  bool json = false;
  std::string timeout = "10s";
  app.add_option("--target", conn.target,
                 "Control address HOST:PORT; several (a,b,c) or a name with many addresses: the "
                 "fleet view, answers merged with a TARGET column (env REACTORCTL_TARGET)")
      ->capture_default_str();
  app.add_option("--token-file", conn.token_file, "Bearer token file (env REACTORCTL_TOKEN_FILE)");
  app.add_option("--tls-ca", conn.tls_ca, "CA certificate: use TLS and check the server");
  app.add_option("--tls-cert", conn.tls_cert, "Client certificate (mTLS)");
  app.add_option("--tls-key", conn.tls_key, "Client private key (mTLS)");
  app.add_option("--tls-server-name", conn.tls_server_name, "Name expected in the server cert");
  app.add_option("--timeout", timeout, "Deadline of each call (e.g. 5s)")
      ->capture_default_str()
      ->check(cli::duration());
  app.add_flag("--json", json, "Print JSON (one document per answer) instead of tables");

  auto* info = app.add_subcommand("info", "Server version, state, loops, listeners, limits");
  info->footer("Example:\n  reactorctl info --json");

  reactorctl::FilterArgs conns_filter;
  std::uint64_t conns_start = 0, conns_max = 0;
  std::uint32_t conns_page = 0;
  std::string watch_interval;
  std::uint64_t watch_iterations = 0;
  auto* conns = app.add_subcommand("conns", "List connections (all pages), or --watch them");
  add_filter_flags(conns, conns_filter, true);
  whole(conns, "--start", conns_start, "First connection id");
  whole(conns, "--page-size", conns_page, "Connections per call (server default 100, at most 1000)");
  whole(conns, "--max", conns_max, "Stop after this many");
  auto* watch_opt =
      conns
          ->add_option("--watch", watch_interval,
                       "Refresh a table of the first page every INTERVAL (default 2s), like top")
          ->expected(0, 1)
          ->type_name("[INTERVAL]")
          ->check(cli::duration());
  whole(conns, "-n,--iterations", watch_iterations, "--watch: stop after this many refreshes");
  conns->footer(
      "Examples:\n"
      "  reactorctl conns --loop 1 --min-buffered 64K\n"
      "  reactorctl conns --json --max 250 | jq '.connections[].peer_address'\n"
      "  reactorctl conns --watch 1s --state read-paused");

  std::uint64_t conn_id = 0;
  auto* conn_cmd = app.add_subcommand("conn", "Everything about one connection");
  whole(conn_cmd, "ID", conn_id, "Connection id")->required();
  conn_cmd->footer("Example:\n  reactorctl conn 42");

  reactorctl::EventArgs event_args;
  auto* events = app.add_subcommand("events", "The reactor's events (event_base_foreach_event)");
  whole(events, "--loop", event_args.loop, "Loop index");
  events->add_option("--state", event_args.state, "initialized | pending | active");
  events->add_option("--kind", event_args.kind, "io | signal | timer | internal");
  events->add_option("--fd", event_args.fd, "File descriptor")->check(CLI::NonNegativeNumber);
  whole(events, "--owner", event_args.owner, "Owner (connection id)");
  events->footer("Example:\n  reactorctl events --state active --loop 0");

  std::optional<std::uint32_t> stats_loop;
  auto* stats = app.add_subcommand("stats", "Per-loop statistics");
  whole(stats, "--loop", stats_loop, "Loop index");
  stats->footer("Example:\n  reactorctl stats --loop 1");

  reactorctl::FilterArgs watch_filter;
  std::uint64_t watch_count = 0;
  auto* watch = app.add_subcommand("watch", "Stream connection opens, closes and changes");
  add_filter_flags(watch, watch_filter, true);
  whole(watch, "--count", watch_count, "Stop after this many messages");
  watch->footer("Example:\n  reactorctl watch --peer 10.0.0.0/8 --json");

  reactorctl::CloseArgs close_args;
  bool close_filter_marker = false;
  auto* close = app.add_subcommand("close", "Close connections by id or by filter");
  whole(close, "IDS", close_args.ids, "Connection ids");
  close->add_flag("--filter", close_filter_marker, "Select by the filter flags (documentation)");
  add_filter_flags(close, close_args.filter, false);
  close->add_flag("--all", close_args.all, "Select every connection (with an empty filter)");
  close->add_flag("--abort", close_args.abort, "Reset instead of a graceful close");
  close->add_flag("--dry-run", close_args.dry_run,
                  "Only show what would be closed (a count and the first ids; all with --json)");
  close->add_flag("--wait", close_args.wait, "Wait until they are closed");
  close->add_option("--deadline", close_args.deadline, "Graceful: abort after this (e.g. 5s)")
      ->check(cli::duration());
  close->footer(
      "Examples:\n"
      "  reactorctl close 42 43\n"
      "  reactorctl close --filter --min-idle 5m --dry-run\n"
      "  reactorctl close --filter --peer 10.1.2.3 --abort --wait");

  reactorctl::DrainArgs drain_args;
  auto* drain = app.add_subcommand("drain", "Stop accepting; health NOT_SERVING");
  drain->add_option("--deadline", drain_args.deadline, "Abort what remains after this")
      ->check(cli::duration());
  drain
      ->add_option("--close-idle-after", drain_args.close_idle_after,
                   "Then close idle connections gracefully")
      ->check(cli::duration());
  drain->add_option("--idle", drain_args.idle, "What counts as idle (default 1s)")->check(cli::duration());
  drain->add_flag("--exit-when-empty", drain_args.exit_when_empty,
                  "Exit the process once no connection remains");
  drain->footer("Example:\n  reactorctl drain --deadline 30s --exit-when-empty");

  auto* resume = app.add_subcommand("resume", "Accept again after a drain");
  resume->footer("Example:\n  reactorctl resume");

  std::optional<std::uint32_t> exit_loop;
  std::string exit_delay;
  auto* exit_cmd = app.add_subcommand("exit", "event_base_loopexit on one loop or all");
  whole(exit_cmd, "--loop", exit_loop, "Loop index (default: all)");
  exit_cmd->add_option("--delay", exit_delay, "Exit after this (e.g. 2s)")->check(cli::duration());
  exit_cmd->footer("Example:\n  reactorctl exit --delay 2s");

  std::optional<std::uint32_t> break_loop;
  auto* break_cmd = app.add_subcommand("break", "event_base_loopbreak on one loop or all");
  whole(break_cmd, "--loop", break_loop, "Loop index (default: all)");
  break_cmd->footer("Example:\n  reactorctl break --loop 0");

  std::string reload_level;
  auto* reload = app.add_subcommand(
      "reload", "Re-read token and TLS files and the log level, as SIGHUP (exit 1 if one is kept)");
  reload
      ->add_option("--log-level", reload_level,
                   "Apply this level (trace, debug, info, warn, error, critical, off) instead of "
                   "the configuration's")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  reload->footer(
      "Examples:\n"
      "  reactorctl reload                        # after rotating a token or certificate file\n"
      "  reactorctl reload --log-level debug      # until the next reload");

  reactorctl::RateLimitArgs ratelimit_args;
  bool ratelimit_filter_marker = false;
  auto* ratelimit =
      app.add_subcommand("ratelimit", "Set or remove rate limits at run time (bytes/s in each direction)");
  ratelimit->add_option("LIMIT", ratelimit_args.limit, "RATE[,BURST] (256KiB, 1M,4M; burst = RATE) or off")
      ->required();
  whole(ratelimit, "IDS", ratelimit_args.ids, "Connection ids");
  ratelimit->add_flag("--total", ratelimit_args.total, "The limit all clients share (--rate-limit-total)");
  ratelimit->add_flag("--new", ratelimit_args.new_connections,
                      "The limit clients connecting from now on get (--rate-limit-per-connection)");
  ratelimit->add_flag("--filter", ratelimit_filter_marker, "Select by the filter flags (documentation)");
  add_filter_flags(ratelimit, ratelimit_args.filter, false);
  ratelimit->add_flag("--all", ratelimit_args.all, "Every connection open now (with an empty filter)");
  ratelimit->footer(
      "Examples:\n"
      "  reactorctl ratelimit 256KiB 42 43\n"
      "  reactorctl ratelimit 1M,4M --filter --peer 10.0.0.0/8\n"
      "  reactorctl ratelimit 100M --total\n"
      "  reactorctl ratelimit off --new");

  std::string health_service;
  auto* health = app.add_subcommand("health", "grpc.health.v1 Check (exit 3 if NOT_SERVING)");
  health->add_option("--service", health_service, "Service name (default: the server)");
  health->footer("Example:\n  reactorctl health --service reactord.v1.Control || echo not serving");

  if (auto code = cli::parse(app, argc, argv, "reactorctl")) return *code;
  if (!stray.empty() || app.get_subcommands().empty()) {
    std::cerr << "reactorctl: "
              << (stray.empty() ? std::string("a command is required")
                                : "unknown command or argument '" + stray.front() + "'")
              << " (see reactorctl --help)\n";
    return reactorctl::kExitUsage;
  }

  reactorctl::Output output{json, &std::cout, &std::cerr};
  auto t = reactord::units::parse_duration(timeout);
  if (!t || t->count() <= 0) {
    std::cerr << "reactorctl: invalid --timeout '" << timeout << "': must be more than 0\n";
    return reactorctl::kExitUsage;
  }
  conn.timeout =
      std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(*t));
  // One command against one connection; the fleet view runs it once per target.
  auto dispatch = [&](const reactorctl::Connection& connection, const reactorctl::Output& o) -> int {
    const reactorctl::Connection* c = &connection;
    const reactorctl::Output& out = o;
    if (*info) return reactorctl::cmd_info(*c, out);
    if (*conns) {
      if (watch_opt->count() > 0) {
        auto interval = reactord::units::parse_duration(watch_interval.empty() ? "2s" : watch_interval);
        if (!interval || interval->count() <= 0) {
          *o.err << "reactorctl: invalid --watch '" << watch_interval << "': must be more than 0\n";
          return reactorctl::kExitUsage;
        }
        return reactorctl::cmd_conns_watch(*c, out, conns_filter, conns_start, conns_page,
                                           std::chrono::duration_cast<std::chrono::milliseconds>(*interval),
                                           watch_iterations);
      }
      return reactorctl::cmd_conns(*c, out, conns_filter, conns_start, conns_page, conns_max);
    }
    if (*conn_cmd) return reactorctl::cmd_conn(*c, out, conn_id);
    if (*events) return reactorctl::cmd_events(*c, out, event_args);
    if (*stats) return reactorctl::cmd_stats(*c, out, stats_loop);
    if (*watch) return reactorctl::cmd_watch(*c, out, watch_filter, watch_count);
    if (*close) return reactorctl::cmd_close(*c, out, close_args);
    if (*drain) return reactorctl::cmd_drain(*c, out, drain_args);
    if (*resume) return reactorctl::cmd_resume(*c, out);
    if (*exit_cmd) return reactorctl::cmd_exit(*c, out, exit_loop, exit_delay);
    if (*break_cmd) return reactorctl::cmd_break(*c, out, break_loop);
    if (*reload) return reactorctl::cmd_reload(*c, out, reload_level);
    if (*health) return reactorctl::cmd_health(*c, out, health_service);
    if (*ratelimit) return reactorctl::cmd_ratelimit(*c, out, ratelimit_args);
    return reactorctl::kExitUsage;
  };

  std::vector<std::string> targets;
  try {
    targets = reactorctl::expand_targets(conn.target);
  } catch (const std::exception& e) {
    std::cerr << "reactorctl: " << e.what() << "\n";
    return reactorctl::kExitUsage;
  }
  // --target NAME:PORT that expanded to several addresses: NAME.
  const std::string resolved_name = targets.size() > 1 && conn.target.find(',') == std::string::npos
                                        ? conn.target.substr(0, conn.target.rfind(':'))
                                        : std::string();
  if (targets.size() > 1) {  // the fleet view (fleet.h)
    if (*conns && watch_opt->count() > 0) {
      std::cerr << "reactorctl: conns --watch redraws one server's screen; with several targets "
                   "use `reactorctl watch`\n";
      return reactorctl::kExitUsage;
    }
    const auto shape = *watch                          ? reactorctl::FleetShape::kStream
                       : (*conns || *events || *stats) ? reactorctl::FleetShape::kTable
                                                       : reactorctl::FleetShape::kLines;
    return reactorctl::run_fleet(
        targets, shape, json,
        [&](const std::string& target, std::ostream& o, std::ostream& e) {
          reactorctl::ConnectOptions one = conn;
          one.target = target;
          // Addresses of one name (a headless Service): the certificate names the name, not
          // each address, so TLS checks the name the operator typed.
          if (one.tls_server_name.empty()) one.tls_server_name = resolved_name;
          try {
            reactorctl::Connection connection(one);
            return dispatch(connection, reactorctl::Output{json, &o, &e});
          } catch (const std::exception& ex) {
            e << "reactorctl: " << ex.what() << "\n";
            return reactorctl::kExitRpcError;
          }
        },
        std::cout, std::cerr);
  }

  std::unique_ptr<reactorctl::Connection> c;
  try {
    c = std::make_unique<reactorctl::Connection>(conn);
  } catch (const std::exception& e) {  // unreadable token / TLS files: the flags are wrong
    std::cerr << "reactorctl: " << e.what() << "\n";
    return reactorctl::kExitUsage;
  }
  try {
    return dispatch(*c, output);
  } catch (const std::exception& e) {
    std::cerr << "reactorctl: " << e.what() << "\n";
    return reactorctl::kExitRpcError;
  }
  return reactorctl::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  return reactord::cli::run_main("reactorctl", reactorctl::kExitRpcError, run, argc, argv);
}
