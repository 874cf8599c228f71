// parse_config: CLI11 with every option also read from REACTORD_<NAME>. Values are taken as
// strings and converted by our own parsers, so that every bad value yields one clear line.
#include "server/config.h"

#include "units/rate.h"
#include "units/text.h"
#include "units/units.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

namespace reactord {

const char* to_string(AcceptMode mode) {
  switch (mode) {
    case AcceptMode::kReusePort:
      return "reuseport";
    case AcceptMode::kSingle:
      return "single";
  }
  return "?";
}

const char* to_string(LogFormat format) { return format == LogFormat::kJson ? "json" : "text"; }

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      return "off";
  }
  return "?";
}

std::string format_duration(reactor::Duration d) {
  return units::format_duration(std::chrono::duration_cast<std::chrono::microseconds>(d));
}

namespace {

// For --help: control characters as C escapes, so a default stays on its line.
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

std::string env_name(const std::string& flag) {
  std::string name = "REACTORD_";
  for (char c : flag) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// The option's value as given on the command line or in the environment.
struct RawValues {
  std::string listen, control_listen, metrics_listen, loops, accept_mode, max_connections, idle_timeout,
      max_output_buffer, drain_timeout, log_level, greeting, audit_log;
  std::string log_format, http_listen;
  std::string fd_reserve;
  std::string rate_limit_per_connection = "off", rate_limit_total = "off";
};

// The TLS data plane's flags (files checked at start, before binding: server/tls_context.h).
// A struct of its own: RawValues is built as an aggregate, field by field.
struct RawTls {
  std::string listen = "off", cert, key, client_ca, min_version = "1.2", handshake_timeout = "10s", alpn;
};

std::optional<std::string> parse_address(const std::string& flag, const std::string& text,
                                         reactor::SocketAddress& out) {
  std::string error;
  auto address = reactor::SocketAddress::parse(text, &error);
  if (!address) {
    return "invalid --" + flag + " '" + text +
           "': " + (error.empty() ? std::string("expected host:port or [v6]:port") : error);
  }
  out = *address;
  return std::nullopt;
}

// --tls-alpn h2,http/1.1: comma-separated protocol names of 1-255 printable bytes, no
// repeats (RFC 7301's wire format carries a one-byte length).
std::optional<std::string> parse_alpn(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  if (text.empty() || text == "off") return std::nullopt;
  const auto bad = [&](const std::string& why) { return "invalid --tls-alpn '" + text + "': " + why; };
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty()) return bad("an empty protocol name");
    if (name.size() > 255) return bad("a protocol name longer than 255 bytes");
    for (const char ch : name) {
      if (ch <= ' ' || ch > '~') return bad("protocol names are printable ASCII without spaces");
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) return bad("'" + name + "' is listed twice");
    out.push_back(std::move(name));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return std::nullopt;
}

// Converts every raw value; the first bad one gives the error line.
std::optional<std::string> convert(const RawValues& raw, const RawTls& raw_tls, Config& c) {
  if (auto e = parse_address("listen", raw.listen, c.listen)) return e;
  if (auto e = parse_address("control-listen", raw.control_listen, c.control.listen)) return e;
  if (auto e = parse_address("metrics-listen", raw.metrics_listen, c.metrics_listen)) return e;
  if (raw.http_listen != "off") {
    reactor::SocketAddress http;
    if (auto e = parse_address("http-listen", raw.http_listen, http)) return e;
    c.http_listen = http;
  }

  auto integer = [](const std::string& text, std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) {
    std::string_view t = reactord::text::trim(text);
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && ptr == t.data() + t.size() && !t.empty() && out >= lo && out <= hi;
  };
  std::uint64_t n = 0;
  if (!integer(raw.loops, 1, 256, n))
    return "invalid --loops '" + raw.loops + "': expected an integer from 1 to 256";
  c.loops = static_cast<unsigned>(n);
  if (raw.accept_mode == "reuseport")
    c.accept_mode = AcceptMode::kReusePort;
  else if (raw.accept_mode == "single")
    c.accept_mode = AcceptMode::kSingle;
  else
    return "invalid --accept-mode '" + raw.accept_mode + "': expected reuseport or single";
  if (!integer(raw.max_connections, 1, 100'000'000, n))
    return "invalid --max-connections '" + raw.max_connections + "': expected an integer from 1 to 100000000";
  c.max_connections = n;

  // Durations and sizes: the one grammar of every binary (units/units.h).
  auto idle = units::parse_duration(raw.idle_timeout);
  if (!idle) return units::flag_error("--idle-timeout", raw.idle_timeout, idle.error);
  c.idle_timeout = *idle;
  auto drain = units::parse_duration(raw.drain_timeout);
  if (!drain) return units::flag_error("--drain-timeout", raw.drain_timeout, drain.error);
  c.drain_timeout = *drain;
  auto size = units::parse_size(raw.max_output_buffer);
  if (!size) return units::flag_error("--max-output-buffer", raw.max_output_buffer, size.error);
  if (*size < 1024) return units::flag_error("--max-output-buffer", raw.max_output_buffer, "at least 1KiB");
  if (*size > kMaxOutputBufferLimit)
    return units::flag_error("--max-output-buffer", raw.max_output_buffer, "at most 1GiB");
  c.max_output_buffer = static_cast<std::size_t>(*size);
  if (!integer(raw.fd_reserve, 0, 1'000'000, n))
    return "invalid --fd-reserve '" + raw.fd_reserve + "': expected an integer from 0 to 1000000";
  c.fd_reserve = n;
  auto per_connection = units::parse_rate(raw.rate_limit_per_connection);
  if (!per_connection) {
    return units::flag_error("--rate-limit-per-connection", raw.rate_limit_per_connection,
                             per_connection.error);
  }
  c.rate_limit_per_connection = *per_connection;
  auto total = units::parse_rate(raw.rate_limit_total);
  if (!total) return units::flag_error("--rate-limit-total", raw.rate_limit_total, total.error);
  c.rate_limit_total = *total;

  if (auto level = parse_log_level(raw.log_level)) {
    c.log_level = *level;
  } else {
    return "invalid --log-level '" + raw.log_level +
           "': expected trace, debug, info, warn, error, critical or off";
  }
  if (raw.log_format == "text")
    c.log_format = LogFormat::kText;
  else if (raw.log_format == "json")
    c.log_format = LogFormat::kJson;
  else
    return "invalid --log-format '" + raw.log_format + "': expected text or json";
  // A greeting is a line: the newline is added unless it is there already (an empty greeting
  // sends nothing).
  c.greeting = raw.greeting;
  if (!c.greeting.empty() && c.greeting.back() != '\n') c.greeting += '\n';
  if (raw.audit_log.empty()) return std::string("invalid --audit-log '': expected stderr or a file path");
  c.audit_log = raw.audit_log;

  if (raw_tls.listen != "off") {
    reactor::SocketAddress tls;
    if (auto e = parse_address("tls-listen", raw_tls.listen, tls)) return e;
    c.tls_listen = tls;
  }
  if (raw_tls.min_version != "1.2" && raw_tls.min_version != "1.3") {
    return "invalid --tls-min-version '" + raw_tls.min_version + "': expected 1.2 or 1.3";
  }
  c.tls_min_version = raw_tls.min_version;
  auto handshake = units::parse_duration(raw_tls.handshake_timeout);
  if (!handshake)
    return units::flag_error("--tls-handshake-timeout", raw_tls.handshake_timeout, handshake.error);
  if (handshake->count() <= 0) {
    return units::flag_error("--tls-handshake-timeout", raw_tls.handshake_timeout, "more than 0");
  }
  c.tls_handshake_timeout = *handshake;
  c.tls_cert = raw_tls.cert;
  c.tls_key = raw_tls.key;
  c.tls_client_ca = raw_tls.client_ca;
  if (auto e = parse_alpn(raw_tls.alpn, c.tls_alpn)) return e;
  if (!c.tls_listen && !c.tls_alpn.empty()) return std::string("--tls-alpn needs --tls-listen");
  if (c.tls_listen && (c.tls_cert.empty() || c.tls_key.empty())) {
    return std::string(c.tls_cert.empty() ? "--tls-cert" : "--tls-key") + " is needed with --tls-listen";
  }
  if (!c.tls_listen && (!c.tls_cert.empty() || !c.tls_key.empty() || !c.tls_client_ca.empty())) {
    return std::string(!c.tls_cert.empty()  ? "--tls-cert"
                       : !c.tls_key.empty() ? "--tls-key"
                                            : "--tls-client-ca") +
           " needs --tls-listen";
  }
  return std::nullopt;
}

}  // namespace

ConfigResult reparse_config(const std::vector<std::string>& args) {
  const Config defaults;
  RawValues raw{defaults.listen.to_string(),
                defaults.control.listen.to_string(),
                defaults.metrics_listen.to_string(),
                std::to_string(defaults.loops),
                to_string(defaults.accept_mode),
                std::to_string(defaults.max_connections),
                format_duration(defaults.idle_timeout),
                "1MiB",
                format_duration(defaults.drain_timeout),
                to_string(defaults.log_level),
                defaults.greeting,
                defaults.audit_log,
                to_string(defaults.log_format),
                "off",  // --http-listen: no status page unless asked for
                std::to_string(defaults.fd_reserve)};

  CLI::App app{
      "reactord: greets every TCP client and echoes what it sends.\n"
      "Every option can also be set through REACTORD_<OPTION> (e.g. REACTORD_LISTEN)."};
  app.set_version_flag("--version", std::string("reactord ") + REACTORD_VERSION);
  auto add = [&](const std::string& flag, std::string& value, const std::string& help) {
    app.add_option("--" + flag, value, help)->envname(env_name(flag))->capture_default_str();
  };
  add("listen", raw.listen, "Echo service address, host:port or [v6]:port (port 0: any)");
  add("control-listen", raw.control_listen, "gRPC control plane address");
  add("metrics-listen", raw.metrics_listen, "Prometheus metrics address");
  add("http-listen", raw.http_listen,
      "Live status page address (off, or host:port; beyond loopback it needs a control token)");
  add("loops", raw.loops, "Event loops (threads), 1..256");
  add("accept-mode", raw.accept_mode,
      "With --loops > 1: reuseport (one SO_REUSEPORT listener per loop) or single (loop 0 accepts)");
  add("max-connections", raw.max_connections, "Open connections at most; extra clients are closed at once");
  add("idle-timeout", raw.idle_timeout, "Close clients idle this long (1s, 500ms, 2m; 0 = never)");
  add("max-output-buffer", raw.max_output_buffer,
      "Per-connection output limit; reading pauses at it (bytes, 64KiB, 1MiB; at most 1GiB)");
  add("fd-reserve", raw.fd_reserve,
      "File descriptors kept free for the control plane and metrics; data clients are refused "
      "first");
  add("rate-limit-per-connection", raw.rate_limit_per_connection,
      "Per-client limit, bytes/s in each direction: RATE[,BURST] (256KiB, 1M,4M; burst = RATE) or off");
  add("rate-limit-total", raw.rate_limit_total,
      "Limit for all clients together, RATE[,BURST] or off (split evenly across the loops)");
  add("drain-timeout", raw.drain_timeout, "On SIGTERM, time clients get to leave before being closed");
  add("log-level", raw.log_level, "trace, debug, info, warn, error, critical or off");
  add("log-format", raw.log_format,
      "text (UTC timestamps) or json (one object per line: ts, level, logger, thread, msg)");
  app.add_option("--greeting", raw.greeting,
                 "Line sent to every client on connect (a newline is added unless it ends with one; "
                 "empty: none)")
      ->envname(env_name("greeting"))
      ->default_str(escaped(defaults.greeting));  // "\n" shown as two characters, on one line
  add("audit-log", raw.audit_log,
      "Audit lines of Control calls: stderr or a file (appended); not silenced by --log-level");
  // The control plane's file paths need no conversion: their flags write into the settings
  // themselves (read by the control plane when it starts).
  Config config;
  add("control-token-file", config.control.token_file,
      "Control plane admin bearer token file (Inspect + Control)");
  add("control-viewer-token-file", config.control.viewer_token_file,
      "Control plane viewer bearer token file (Inspect only)");
  add("control-tls-cert", config.control.tls_cert, "Control plane TLS certificate (PEM)");
  add("control-tls-key", config.control.tls_key, "Control plane TLS private key (PEM)");
  add("control-tls-client-ca", config.control.tls_client_ca,
      "Control plane: require client certificates signed by this CA (mTLS)");
  RawTls raw_tls;
  add("tls-listen", raw_tls.listen, "Echo service over TLS: off, or host:port (needs --tls-cert, --tls-key)");
  add("tls-cert", raw_tls.cert, "TLS certificate chain for --tls-listen (PEM)");
  add("tls-key", raw_tls.key, "TLS private key for --tls-listen (PEM)");
  add("tls-client-ca", raw_tls.client_ca,
      "--tls-listen: require client certificates signed by this CA (PEM)");
  add("tls-min-version", raw_tls.min_version, "Lowest TLS version accepted: 1.2 or 1.3");
  add("tls-handshake-timeout", raw_tls.handshake_timeout, "Close a TLS client whose handshake takes longer");
  add("tls-alpn", raw_tls.alpn,
      "--tls-listen: ALPN protocols offered, in order of preference (h2,http/1.1; default: no ALPN)");
  RawBounds raw_bounds;
  add_bound_flags(add, raw_bounds);
  std::string config_file;
  // CLI11 reads the file; its values go where the flags' do. Env is read after the file, so
  // REACTORD_CONFIG is turned into --config by parse_config.
  app.set_config("--config", "",
                 "File of flags, one `name = value` per line (log-level = \"debug\"); re-read on "
                 "SIGHUP / reactorctl reload (env REACTORD_CONFIG)")
      ->check(CLI::ExistingFile);
  // A key that is no flag is an error, as an unknown flag on the command line (CLI11 would
  // ignore it silently).
  app.allow_config_extras(CLI::config_extras_mode::error);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
    if (auto* c = app.get_config_ptr(); c != nullptr && c->count() > 0) config_file = c->as<std::string>();
  } catch (const CLI::CallForHelp&) {
    return ConfigExit{0, app.help()};
  } catch (const CLI::CallForVersion&) {
    return ConfigExit{0, std::string("reactord ") + REACTORD_VERSION + "\n"};
  } catch (const CLI::ParseError& e) {
    // A usage error, whatever CLI11's own code (105 for a missing --config file, 109 for an
    // unknown flag): README promises 2, as for every bad value.
    return ConfigExit{2, std::string("reactord: ") + e.what() + " (see --help)\n"};
  }
  if (auto error = convert(raw, raw_tls, config)) return ConfigExit{2, "reactord: " + *error + "\n"};
  if (auto error = convert_bounds(raw_bounds, &config.bounds, &config.control)) {
    return ConfigExit{2, "reactord: " + *error + "\n"};
  }
  config.config_file = config_file;
  config.args = args;
  return ParsedConfig{std::move(config)};
}

ConfigResult parse_config(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  // The config file is read before the environment (CLI11's order), so its own variable
  // becomes a flag here, unless the command line names a file.
  const char* env_config = std::getenv("REACTORD_CONFIG");
  const bool given = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--config" || a.rfind("--config=", 0) == 0;
  });
  if (env_config != nullptr && *env_config != '\0' && !given) {
    args.emplace_back("--config");
    args.emplace_back(env_config);
  }
  return reparse_config(args);
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  static constexpr LogLevel kLevels[] = {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo,
                                         LogLevel::kWarn,  LogLevel::kError, LogLevel::kCritical,
                                         LogLevel::kOff};
  for (LogLevel level : kLevels) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

namespace {

// Every flag's value as text, for config_differences.
std::string join_alpn(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::vector<std::pair<std::string, std::string>> flag_values(const Config& c) {
  const BoundsConfig& b = c.bounds;
  const control::ControlSettings& control = c.control;
  return {
      {"--listen", c.listen.to_string()},
      {"--control-listen", control.listen.to_string()},
      {"--metrics-listen", c.metrics_listen.to_string()},
      {"--http-listen", c.http_listen ? c.http_listen->to_string() : "off"},
      {"--loops", std::to_string(c.loops)},
      {"--accept-mode", to_string(c.accept_mode)},
      {"--max-connections", std::to_string(c.max_connections)},
      {"--idle-timeout", format_duration(c.idle_timeout)},
      {"--max-output-buffer", std::to_string(c.max_output_buffer)},
      {"--drain-timeout", format_duration(c.drain_timeout)},
      {"--fd-reserve", std::to_string(c.fd_reserve)},
      {"--log-level", to_string(c.log_level)},
      {"--log-format", to_string(c.log_format)},
      {"--greeting", escaped(c.greeting)},
      {"--audit-log", c.audit_log},
      {"--tls-listen", c.tls_listen ? c.tls_listen->to_string() : "off"},
      {"--tls-cert", c.tls_cert},
      {"--tls-key", c.tls_key},
      {"--tls-client-ca", c.tls_client_ca},
      {"--tls-min-version", c.tls_min_version},
      {"--tls-handshake-timeout", format_duration(c.tls_handshake_timeout)},
      {"--tls-alpn", join_alpn(c.tls_alpn)},
      {"--control-token-file", control.token_file},
      {"--control-viewer-token-file", control.viewer_token_file},
      {"--control-tls-cert", control.tls_cert},
      {"--control-tls-key", control.tls_key},
      {"--control-tls-client-ca", control.tls_client_ca},
      {"--control-max-watchers", std::to_string(control.watch.max_watchers)},
      {"--watch-buffer-bytes", std::to_string(control.watch.buffer_bytes)},
      {"--watch-total-bytes", std::to_string(control.watch.total_bytes)},
      {"--control-threads", std::to_string(control.grpc.max_threads)},
      {"--control-memory", std::to_string(control.grpc.memory_bytes)},
      {"--control-max-message-bytes", std::to_string(control.grpc.max_receive_message_bytes)},
      {"--metrics-max-connections", std::to_string(b.metrics_max_connections)},
      {"--metrics-request-timeout", format_duration(b.metrics_request_timeout)},
  };
}

}  // namespace

std::vector<std::string> config_differences(const Config& a, const Config& b) {
  std::vector<std::string> out;
  const auto va = flag_values(a), vb = flag_values(b);
  for (std::size_t i = 0; i < va.size() && i < vb.size(); ++i) {
    if (va[i].second != vb[i].second) {
      out.push_back(va[i].first + " " + (va[i].second.empty() ? "''" : va[i].second) + " -> " +
                    (vb[i].second.empty() ? "''" : vb[i].second));
    }
  }
  return out;
}

}  // namespace reactord
