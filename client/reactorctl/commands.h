// reactorctl's commands: one function per command, each returning the process exit code
// (0 ok, 1 RPC or input error — message on stderr, 3 health NOT_SERVING).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "channel.h"

namespace reactorctl {

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
  std::string min_age, min_idle;          // durations
  std::string min_in, min_out, min_buffered;  // byte counts
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
int cmd_health(const Connection& c, const Output& o, const std::string& service);

}  // namespace reactorctl
