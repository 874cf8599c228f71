// reactorctl: talk to reactord's control plane.
//
//   reactorctl [--target HOST:PORT] [--token-file F] [--tls-ca F --tls-cert F --tls-key F]
//              [--json] COMMAND ...
//
// Exit codes: 0 ok, 1 the call failed (gRPC status printed on stderr) or a flag value was bad,
// 2 usage error, 3 `health` answered NOT_SERVING.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "channel.h"
#include "commands.h"
#include "units.h"

namespace {

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

void add_filter_flags(CLI::App* cmd, reactorctl::FilterArgs& f, bool with_ids) {
  if (with_ids) cmd->add_option("--id", f.ids, "Connection id (repeatable)");
  cmd->add_option("--peer", f.peer, "Peer address or CIDR: 10.0.0.7, 10.0.0.0/8, [::1]:5000");
  cmd->add_option("--port", f.local_port, "Local (listening) port");
  cmd->add_option("--loop", f.loop, "Loop index");
  cmd->add_option("--state", f.state, "open | read-paused | draining | closing");
  cmd->add_option("--min-age", f.min_age, "Open for at least this long (e.g. 30s)");
  cmd->add_option("--min-idle", f.min_idle, "No traffic for at least this long");
  cmd->add_option("--min-in", f.min_in, "At least this many bytes read (e.g. 64k)");
  cmd->add_option("--min-out", f.min_out, "At least this many bytes written");
  cmd->add_option("--min-buffered", f.min_buffered, "At least this many bytes buffered");
  cmd->add_flag("--not", f.negate, "Invert the filter");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reactorctl: inspect and control a running reactord"};
  app.require_subcommand(1);

  reactorctl::ConnectOptions conn;
  conn.target = env_or("REACTORCTL_TARGET", "127.0.0.1:50051");
  conn.token_file = env_or("REACTORCTL_TOKEN_FILE", "");
  bool json = false;
  std::string timeout = "10s";
  app.add_option("--target", conn.target, "Control address HOST:PORT (env REACTORCTL_TARGET)")
      ->capture_default_str();
  app.add_option("--token-file", conn.token_file, "Bearer token file (env REACTORCTL_TOKEN_FILE)");
  app.add_option("--tls-ca", conn.tls_ca, "CA certificate: use TLS and check the server");
  app.add_option("--tls-cert", conn.tls_cert, "Client certificate (mTLS)");
  app.add_option("--tls-key", conn.tls_key, "Client private key (mTLS)");
  app.add_option("--tls-server-name", conn.tls_server_name, "Name expected in the server cert");
  app.add_option("--timeout", timeout, "Deadline of each call (e.g. 5s)")->capture_default_str();
  app.add_flag("--json", json, "Print JSON (one document per answer) instead of tables");

  auto* info = app.add_subcommand("info", "Server version, state, loops, listeners, limits");

  reactorctl::FilterArgs conns_filter;
  std::uint64_t conns_start = 0, conns_max = 0;
  std::uint32_t conns_page = 0;
  auto* conns = app.add_subcommand("conns", "List connections (all pages)");
  add_filter_flags(conns, conns_filter, true);
  conns->add_option("--start", conns_start, "First connection id");
  conns->add_option("--page-size", conns_page, "Connections per call (server default 100)");
  conns->add_option("--max", conns_max, "Stop after this many");

  std::uint64_t conn_id = 0;
  auto* conn_cmd = app.add_subcommand("conn", "Everything about one connection");
  conn_cmd->add_option("ID", conn_id, "Connection id")->required();

  reactorctl::EventArgs event_args;
  auto* events = app.add_subcommand("events", "The reactor's events (event_base_foreach_event)");
  events->add_option("--loop", event_args.loop, "Loop index");
  events->add_option("--state", event_args.state, "initialized | pending | active");
  events->add_option("--kind", event_args.kind, "io | signal | timer | internal");
  events->add_option("--fd", event_args.fd, "File descriptor");
  events->add_option("--owner", event_args.owner, "Owner (connection id)");

  std::optional<std::uint32_t> stats_loop;
  auto* stats = app.add_subcommand("stats", "Per-loop statistics");
  stats->add_option("--loop", stats_loop, "Loop index");

  reactorctl::FilterArgs watch_filter;
  std::uint64_t watch_count = 0;
  auto* watch = app.add_subcommand("watch", "Stream connection opens, closes and changes");
  add_filter_flags(watch, watch_filter, true);
  watch->add_option("--count", watch_count, "Stop after this many messages");

  reactorctl::CloseArgs close_args;
  bool close_filter_marker = false;
  auto* close = app.add_subcommand("close", "Close connections by id or by filter");
  close->add_option("IDS", close_args.ids, "Connection ids");
  close->add_flag("--filter", close_filter_marker, "Select by the filter flags (documentation)");
  add_filter_flags(close, close_args.filter, false);
  close->add_flag("--all", close_args.all, "Select every connection (with an empty filter)");
  close->add_flag("--abort", close_args.abort, "Reset instead of a graceful close");
  close->add_flag("--dry-run", close_args.dry_run, "Only show what would be closed");
  close->add_flag("--wait", close_args.wait, "Wait until they are closed");
  close->add_option("--deadline", close_args.deadline, "Graceful: abort after this (e.g. 5s)");

  reactorctl::DrainArgs drain_args;
  auto* drain = app.add_subcommand("drain", "Stop accepting; health NOT_SERVING");
  drain->add_option("--deadline", drain_args.deadline, "Abort what remains after this");
  drain->add_option("--close-idle-after", drain_args.close_idle_after,
                    "Then close idle connections gracefully");
  drain->add_option("--idle", drain_args.idle, "What counts as idle (default 1s)");
  drain->add_flag("--exit-when-empty", drain_args.exit_when_empty,
                  "Exit the process once no connection remains");

  auto* resume = app.add_subcommand("resume", "Accept again after a drain");

  std::optional<std::uint32_t> exit_loop;
  std::string exit_delay;
  auto* exit_cmd = app.add_subcommand("exit", "event_base_loopexit on one loop or all");
  exit_cmd->add_option("--loop", exit_loop, "Loop index (default: all)");
  exit_cmd->add_option("--delay", exit_delay, "Exit after this (e.g. 2s)");

  std::optional<std::uint32_t> break_loop;
  auto* break_cmd = app.add_subcommand("break", "event_base_loopbreak on one loop or all");
  break_cmd->add_option("--loop", break_loop, "Loop index (default: all)");

  std::string health_service;
  auto* health = app.add_subcommand("health", "grpc.health.v1 Check (exit 3 if NOT_SERVING)");
  health->add_option("--service", health_service, "Service name (default: the server)");

  CLI11_PARSE(app, argc, argv);

  reactorctl::Output out{json, &std::cout, &std::cerr};
  try {
    if (auto t = reactorctl::parse_timeout(timeout)) {
      conn.timeout = *t;
    } else {
      std::cerr << "reactorctl: bad --timeout \"" << timeout << "\"\n";
      return 2;
    }
    reactorctl::Connection c(conn);
    if (*info) return reactorctl::cmd_info(c, out);
    if (*conns) {
      return reactorctl::cmd_conns(c, out, conns_filter, conns_start, conns_page, conns_max);
    }
    if (*conn_cmd) return reactorctl::cmd_conn(c, out, conn_id);
    if (*events) return reactorctl::cmd_events(c, out, event_args);
    if (*stats) return reactorctl::cmd_stats(c, out, stats_loop);
    if (*watch) return reactorctl::cmd_watch(c, out, watch_filter, watch_count);
    if (*close) return reactorctl::cmd_close(c, out, close_args);
    if (*drain) return reactorctl::cmd_drain(c, out, drain_args);
    if (*resume) return reactorctl::cmd_resume(c, out);
    if (*exit_cmd) return reactorctl::cmd_exit(c, out, exit_loop, exit_delay);
    if (*break_cmd) return reactorctl::cmd_break(c, out, break_loop);
    if (*health) return reactorctl::cmd_health(c, out, health_service);
  } catch (const std::exception& e) {
    std::cerr << "reactorctl: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
