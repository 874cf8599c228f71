// Config: every reactord flag's value, parsed once at start-up by parse_config() and then
// read-only (safe to read from any thread once Server::start has been called).
//
// Each flag also comes from the environment variable REACTORD_<NAME> (upper case, '-' → '_'):
// --listen / REACTORD_LISTEN, --max-connections / REACTORD_MAX_CONNECTIONS, ... A flag given
// on the command line wins over the environment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "reactor/clock.h"
#include "reactor/socket_address.h"
#include "server/bounds_config.h"
#include "server/control_settings.h"
#include "units/rate.h"

namespace reactord {

// How connections reach the loops when --loops > 1.
enum class AcceptMode {
  kReusePort,  // one SO_REUSEPORT listener per loop: the kernel spreads connections
  kSingle,     // one listener on loop 0 hands accepted fds round-robin to the loops (post())
};
const char* to_string(AcceptMode mode);

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };
const char* to_string(LogLevel level);

// --log-format: text (UTC timestamps ending in Z) or json (one object per line); see
// server/log_format.h.
enum class LogFormat { kText, kJson };
const char* to_string(LogFormat format);

// The upper bound of --max-output-buffer, from a 32-bit field an idle connection keeps to stay
// small (issue #19): the bytes written but not yet added to the loop's counter, at most an
// output buffer and a read between two additions, count 32 bits.
inline constexpr std::size_t kMaxOutputBufferLimit = std::size_t{1} << 30;

struct Config {
  // --listen: the echo service. "host:port" or "[v6]:port"; port 0 = any free port.
  reactor::SocketAddress listen = *reactor::SocketAddress::parse("0.0.0.0:9995");
  // --tls-listen: the same service over TLS (nullopt, "off", the default: none). Loop 0
  // accepts; with --loops > 1 connections are handed to the loops round-robin.
  std::optional<reactor::SocketAddress> tls_listen;
  // --tls-cert / --tls-key (PEM; needed with --tls-listen), --tls-client-ca (client
  // certificates required, verified by it), --tls-min-version (1.2 or 1.3),
  // --tls-handshake-timeout (a client that has not finished its handshake is closed).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string tls_min_version = "1.2";
  reactor::Duration tls_handshake_timeout = std::chrono::seconds(10);
  // --tls-alpn: protocols offered by ALPN, in the server's order of preference (empty: ALPN
  // off). A client offering ALPN with none of them gets no_application_protocol (RFC 7301).
  std::vector<std::string> tls_alpn;
  // --metrics-listen: validated here, served by the metrics exporter (another component).
  reactor::SocketAddress metrics_listen = *reactor::SocketAddress::parse("127.0.0.1:9464");
  // --http-listen: the live status page (server/status/); nullopt ("off", the default) = none.
  std::optional<reactor::SocketAddress> http_listen;
  // --loops: event loops, one thread and one EventBase each (1..256).
  unsigned loops = 1;
  // --accept-mode: see AcceptMode (only matters when loops > 1).
  AcceptMode accept_mode = AcceptMode::kReusePort;
  // --max-connections: open client connections across all loops; beyond it a new client is
  // closed at once and counted as rejected.
  std::size_t max_connections = 10000;
  // --idle-timeout: a client that sends nothing and receives nothing for this long is closed.
  // 0 = never.
  reactor::Duration idle_timeout = std::chrono::minutes(5);
  // --max-output-buffer: per-connection output high watermark; at or above it the server stops
  // reading from that client until its output drains to half (backpressure). At most
  // kMaxOutputBufferLimit.
  std::size_t max_output_buffer = 1024 * 1024;
  // --drain-timeout: on SIGTERM (or a drain request) clients get this long to leave before
  // the rest are closed gracefully.
  reactor::Duration drain_timeout = std::chrono::seconds(30);
  // --fd-reserve: file descriptors kept free for the control plane and metrics. Data
  // connections are refused (reason fd_reserve) before they would take them; at most half of
  // the fds left at start.
  std::size_t fd_reserve = 64;
  // --log-level.
  LogLevel log_level = LogLevel::kInfo;
  // --log-format.
  LogFormat log_format = LogFormat::kText;
  // --greeting: sent to every client on connect, always ending in a newline (parse_config adds
  // one unless given; empty = no greeting). Default: the seed's MESSAGE.
  std::string greeting = "Hello, World!\n";

  // --audit-log: where the audit lines of Control calls go: "stderr" or a file (appended).
  std::string audit_log = "stderr";

  // The control plane's settings, handed to it whole: --control-listen, the token and TLS
  // files, and its bounds (--control-max-watchers, --watch-*-bytes, --control-threads,
  // --control-memory, --control-max-message-bytes, --control-max-connections(-per-peer)).
  control::ControlSettings control;

  // --rate-limit-per-connection / --rate-limit-total: bytes/s in each direction and burst, per
  // client / for the whole listener (split across the loops; see server/rate_limits.h).
  // nullopt ("off", the default) = unlimited.
  std::optional<units::Rate> rate_limit_per_connection;
  std::optional<units::Rate> rate_limit_total;

  // --metrics-max-connections, --metrics-request-timeout.
  BoundsConfig bounds;

  // --config: a file of flags (CLI11's config format: `log-level = "debug"`, one per line;
  // README "Reload"). Read at start and again at every reload: the reloadable settings in it
  // (the log level) apply, others that changed are reported as needing a restart. The
  // command line wins over the file, the file over the environment. Empty = none.
  std::string config_file;
  // Not a flag: the arguments parse_config() read (argv[1..], REACTORD_CONFIG added as
  // --config), so that a reload parses exactly the same command line again.
  std::vector<std::string> args;

  // Not a flag: whether Server installs the SIGINT / SIGTERM handlers on loop 0 (main.cc: yes;
  // in-process tests: no).
  bool handle_signals = false;
};

// What parse_config() decided.
struct ParsedConfig {
  Config config;
};
struct ConfigExit {
  int exit_code = 0;    // 0 for --help / --version, non-zero for an error
  std::string message;  // help text, version, or one clear error line
};
using ConfigResult = std::variant<ParsedConfig, ConfigExit>;

// Parses argv (and the REACTORD_* environment). Never throws, never exits: --help, --version
// and every error come back as ConfigExit for main to print (stdout for exit code 0, stderr
// otherwise). Any thread.
ConfigResult parse_config(int argc, const char* const* argv);

// Parses the arguments a Config kept (Config::args) again, with the configuration file read
// afresh: what a reload applies. ConfigExit with the error on failure. Any thread.
ConfigResult reparse_config(const std::vector<std::string>& args);

// "trace" ... "off" → LogLevel; nullopt for anything else. Any thread.
std::optional<LogLevel> parse_log_level(std::string_view text);

// The flags whose values differ between a and b, as "--flag a-value → b-value" (paths and
// values only: token and key contents are never read here). Any thread.
std::vector<std::string> config_differences(const Config& a, const Config& b);

// "1500ms", "1m30s", "2m" — the shortest exact form in the grammar of units/units.h, for logs
// and --help defaults. Any thread.
std::string format_duration(reactor::Duration d);

}  // namespace reactord
