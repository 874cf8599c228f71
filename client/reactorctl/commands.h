// reactorctl's commands: one function per command, each returning the process exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "channel.h"

namespace reactorctl {

// The exit codes of every command (README: "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;    // the call failed: gRPC status name on stderr
inline constexpr int kExitUsage = 2;       // bad command line: one line naming the flag
inline constexpr int kExitNotServing = 3;  // health answered NOT_SERVING

struct Output {
  bool json = false;
  std::ostream* out;
  std::ostream* err;
};

// Connection filter flags shared by conns, close and watch (strings keep units until parsed).
struct FilterArgs {
  std::vector<std::uint64_t> ids;
  std::string peer;
  std::uint32_t local_port = 0;
  std::optional<std::uint32_t> loop;
  std::string state;
  std::string min_age, min_idle;              // durations
  std::string min_in, min_out, min_buffered;  // byte counts
  bool tls = false;                           // only --tls-listen clients
  bool negate = false;
  bool any() const;
};

struct EventArgs {
  std::optional<std::uint32_t> loop;
  std::string state, kind;
  std::optional<std::int32_t> fd;
  std::optional<std::uint64_t> owner;
};

struct CloseArgs {
  std::vector<std::uint64_t> ids;
  FilterArgs filter;
  bool all = false;
  bool abort = false;
  bool dry_run = false;
  bool wait = false;
  std::string deadline;  // graceful: abort after this
};

struct DrainArgs {
  std::string deadline;
  std::string close_idle_after;
  std::string idle;
  bool exit_when_empty = false;
};

int cmd_info(const Connection& c, const Output& o);
int cmd_conns(const Connection& c, const Output& o, const FilterArgs& f, std::uint64_t start,
              std::uint32_t page_size, std::uint64_t max_results);
// `conns --watch`: every `interval`, clear the screen (on a terminal) and show one page of
// matching connections plus the server's totals: two calls per refresh, whatever the number
// of connections. Stops after `iterations` refreshes (0: until SIGINT/SIGTERM).
int cmd_conns_watch(const Connection& c, const Output& o, const FilterArgs& f, std::uint64_t start,
                    std::uint32_t page_size, std::chrono::milliseconds interval, std::uint64_t iterations);
int cmd_conn(const Connection& c, const Output& o, std::uint64_t id);
int cmd_events(const Connection& c, const Output& o, const EventArgs& a);
int cmd_stats(const Connection& c, const Output& o, std::optional<std::uint32_t> loop);
int cmd_watch(const Connection& c, const Output& o, const FilterArgs& f, std::uint64_t count);
int cmd_close(const Connection& c, const Output& o, const CloseArgs& a);
int cmd_drain(const Connection& c, const Output& o, const DrainArgs& a);
int cmd_resume(const Connection& c, const Output& o);
int cmd_exit(const Connection& c, const Output& o, std::optional<std::uint32_t> loop,
             const std::string& delay);
int cmd_break(const Connection& c, const Output& o, std::optional<std::uint32_t> loop);
// Reload (SIGHUP's twin): one row per item; exit 1 when an item kept its old value.
int cmd_reload(const Connection& c, const Output& o, const std::string& log_level);
int cmd_health(const Connection& c, const Output& o, const std::string& service);

// reactorctl ratelimit LIMIT [IDS...] [filter flags | --all | --total | --new]
struct RateLimitArgs {
  std::string limit;  // RATE[,BURST] or off
  std::vector<std::uint64_t> ids;
  FilterArgs filter;
  bool all = false;
  bool total = false;            // the listener-wide total
  bool new_connections = false;  // the default for clients connecting from now on
};
int cmd_ratelimit(const Connection& c, const Output& o, const RateLimitArgs& a);

}  // namespace reactorctl
