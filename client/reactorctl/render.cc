#include "render.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "table.h"
#include "units.h"
#include "units/rate.h"

namespace reactorctl {

namespace v1 = reactord::v1;

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) return "{\"error\":\"cannot print JSON\"}";
  return out;
}

std::string enum_label(std::string_view full_name, std::string_view prefix) {
  std::string_view rest = full_name;
  if (rest.substr(0, prefix.size()) == prefix) rest.remove_prefix(prefix.size());
  std::string label;
  for (char c : rest) label += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return label;
}

std::string enum_name(std::string_view label, std::string_view prefix) {
  std::string name(prefix);
  for (char c : label) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

namespace {

std::string conn_state(v1::ConnectionState s) {
  return enum_label(v1::ConnectionState_Name(s), "CONNECTION_STATE_");
}
std::string event_state(v1::EventState s) { return enum_label(v1::EventState_Name(s), "EVENT_STATE_"); }
std::string event_kind(v1::EventKind k) { return enum_label(v1::EventKind_Name(k), "EVENT_KIND_"); }
std::string ms(std::int64_t v) { return format_duration_us(v * 1000); }

std::string unix_ms_text(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void add_event_rows(Table& table, const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  for (const auto& e : events) {
    std::string target = e.kind() == v1::EVENT_KIND_SIGNAL ? "sig " + std::to_string(e.signal())
                         : e.fd() >= 0                     ? std::to_string(e.fd())
                                                           : "-";
    table.add_row({std::to_string(e.loop()), std::to_string(e.id()), event_kind(e.kind()), target,
                   e.requested().empty() ? "-" : e.requested(), event_state(e.state()),
                   e.fired().empty() ? "-" : e.fired(), std::to_string(e.priority()),
                   e.has_time_left_us() ? format_duration_us(e.time_left_us()) : "-",
                   e.owner() ? std::to_string(e.owner()) : "-", e.label().empty() ? "-" : e.label()});
  }
}

Table event_table() {
  return Table(
      {"LOOP", "ID", "KIND", "FD", "REQUESTED", "STATE", "FIRED", "PRIO", "TIMEOUT", "OWNER", "LABEL"});
}

}  // namespace

void print_server_info(std::ostream& out, const v1::ServerInfo& info) {
  auto state = enum_label(v1::ServerState_Name(info.state()), "SERVER_STATE_");
  out << "version:      " << info.version() << "\n"
      << "build:        " << info.build() << "\n"
      << "pid:          " << info.pid() << "\n"
      << "started:      " << unix_ms_text(info.start_time_unix_ms()) << " (up " << ms(info.uptime_ms())
      << ")\n"
      << "state:        " << state << (info.accepting() ? ", accepting" : ", not accepting") << "\n"
      << "loops:        " << info.loops() << " (" << info.backend() << ")\n"
      << "listening:    ";
  for (int i = 0; i < info.listen_addresses_size(); ++i) {
    out << (i ? ", " : "") << info.listen_addresses(i);
  }
  out << "\n"
      << "control:      " << info.control_address() << "\n"
      << "connections:  " << info.connections() << " open, " << info.connections_total() << " accepted\n";
  if (!info.log_level().empty()) out << "log level:    " << info.log_level() << "\n";
  out << "reloads:      " << info.reloads_ok() << " ok, " << info.reloads_failed() << " failed";
  if (info.last_reload_unix_ms() > 0) {
    out << "; last " << unix_ms_text(info.last_reload_unix_ms())
        << (info.last_reload_ok() ? " (ok)" : " (failed)");
  }
  out << "\n";
  if (!info.limits().empty()) {
    std::vector<std::pair<std::string, std::int64_t>> limits(info.limits().begin(), info.limits().end());
    std::sort(limits.begin(), limits.end());
    out << "limits:\n";
    for (const auto& [name, value] : limits) out << "  " << name << " = " << value << "\n";
  }
}

// "-" for plaintext, "handshake" until it is done, else the version (and "+ktls").
static std::string tls_summary(const v1::Connection& c) {
  if (!c.tls()) return "-";
  if (!c.tls_handshake_done()) return "handshake";
  return c.tls_version() + (c.tls_ktls() ? "+ktls" : "");
}

void print_reload(std::ostream& out, const v1::ReloadResponse& reload) {
  Table table({"ITEM", "OUTCOME", "DETAIL"});
  for (const auto& item : reload.items()) {
    table.add_row(
        {item.name(), enum_label(v1::ReloadOutcome_Name(item.outcome()), "RELOAD_OUTCOME_"), item.detail()});
  }
  table.print(out);
  out << (reload.ok() ? "reloaded" : "reloaded; some items kept their old value (see DETAIL)") << "\n";
}

void print_connections(std::ostream& out, const v1::ListConnectionsResponse& list) {
  Table table({"ID", "LOOP", "PEER", "LOCAL", "STATE", "AGE", "IDLE", "IN", "OUT", "BUFFERED", "TLS"});
  for (const auto& c : list.connections()) {
    table.add_row({std::to_string(c.id()), std::to_string(c.loop()), c.peer_address(), c.local_address(),
                   conn_state(c.state()), ms(c.age_ms()), ms(c.idle_ms()), format_bytes(c.bytes_in()),
                   format_bytes(c.bytes_out()), format_bytes(c.input_buffered() + c.output_buffered()),
                   tls_summary(c)});
  }
  table.print(out);
  out << list.connections_size() << " connection(s)" << (list.end() ? "" : ", more follow") << "\n";
}

void print_connection(std::ostream& out, const v1::Connection& c) {
  out << "id:           " << c.id() << "\n"
      << "loop:         " << c.loop() << "\n"
      << "fd:           " << c.fd() << "\n"
      << "peer:         " << c.peer_address() << "\n"
      << "local:        " << c.local_address() << "\n"
      << "state:        " << conn_state(c.state())
      << (c.read_suspended() ? " (reading suspended at high watermark)" : "") << "\n"
      << "opened:       " << unix_ms_text(c.opened_unix_ms()) << " (age " << ms(c.age_ms()) << ", idle "
      << ms(c.idle_ms()) << ")\n"
      << "bytes:        in " << c.bytes_in() << ", out " << c.bytes_out() << "\n"
      << "buffered:     input " << c.input_buffered() << ", output " << c.output_buffered() << "\n"
      << "watermarks:   read low " << c.read_low_watermark() << ", read high " << c.read_high_watermark()
      << ", write low " << c.write_low_watermark() << "\n";
  if (c.tls()) {
    if (!c.tls_handshake_done()) {
      out << "tls:          handshake in progress\n";
    } else {
      out << "tls:          " << c.tls_version() << ", " << c.tls_cipher() << ", kTLS "
          << (c.tls_ktls() ? "on" : "off") << "\n"
          << "tls sni:      " << (c.tls_sni().empty() ? "(none)" : c.tls_sni()) << "\n"
          << "tls client:   " << (c.tls_peer_subject().empty() ? "(no certificate)" : c.tls_peer_subject())
          << "\n"
          << "tls alpn:     " << (c.tls_alpn().empty() ? "(none)" : c.tls_alpn()) << "\n";
    }
  } else {
    out << "tls:          no (plaintext)\n";
  }
  // Rate limits: its own (or none), the shared total, and what they cost it so far.
  out << "rate limit:   "
      << (c.has_rate_limit() ? reactord::units::format_rate(reactord::units::Rate{
                                   c.rate_limit().bytes_per_second(), c.rate_limit().burst()}) +
                                   "/s"
                             : std::string("none"))
      << (c.rate_limit_total() ? ", shares the total" : "") << (c.throttled() ? ", throttled now" : "")
      << "; held back " << ms(c.throttled_ms()) << ", " << c.bytes_delayed() << " bytes delayed\n";
  const auto& t = c.tcp_info();
  if (t.valid()) {
    out << "tcp:          rtt " << format_duration_us(t.rtt_us()) << " (var "
        << format_duration_us(t.rttvar_us()) << "), cwnd " << t.snd_cwnd() << ", mss " << t.snd_mss()
        << ", retransmits " << t.retransmits() << " (total " << t.total_retrans() << "), unacked "
        << t.unacked() << "\n";
  } else {
    out << "tcp:          (no TCP_INFO)\n";
  }
  out << "events:\n";
  Table table = event_table();
  add_event_rows(table, c.events());
  table.print(out);
}

void print_events(std::ostream& out, const v1::ListEventsResponse& list) {
  Table table = event_table();
  add_event_rows(table, list.events());
  table.print(out);
  const auto& n = list.counts();
  out << list.events_size() << " event(s); counts: initialized " << n.initialized() << ", pending "
      << n.pending() << ", active " << n.active() << ", internal " << n.internal() << "\n";
}

void print_loop_stats(std::ostream& out, const v1::GetLoopStatsResponse& stats) {
  Table table({"LOOP", "ITERATIONS", "CALLBACKS", "POLL-WAIT", "IN-CALLBACKS", "LONGEST", "CONNS", "INIT",
               "PENDING", "ACTIVE", "ACTIVE/PRIO"});
  for (const auto& l : stats.loops()) {
    std::string per_prio;
    for (int i = 0; i < l.events().active_per_priority_size(); ++i) {
      per_prio += (i ? "/" : "") + std::to_string(l.events().active_per_priority(i));
    }
    table.add_row({std::to_string(l.loop()), std::to_string(l.iterations()), std::to_string(l.callbacks()),
                   format_duration_us(l.poll_wait_us()), format_duration_us(l.callback_time_us()),
                   format_duration_us(l.longest_callback_us()), std::to_string(l.connections()),
                   std::to_string(l.events().initialized()), std::to_string(l.events().pending()),
                   std::to_string(l.events().active()), per_prio.empty() ? "-" : per_prio});
  }
  table.print(out);
}

void print_watch_event(std::ostream& out, const v1::ConnectionEvent& e) {
  if (e.dropped() > 0) out << "(" << e.dropped() << " event(s) dropped: watcher too slow)\n";
  auto kind = enum_label(v1::ConnectionEvent::Kind_Name(e.kind()), "KIND_");
  if (e.kind() == v1::ConnectionEvent::KIND_SYNCED) {
    out << "-- synced --\n";
    return;
  }
  const auto& c = e.connection();
  out << kind << " id=" << c.id() << " loop=" << c.loop() << " peer=" << c.peer_address()
      << " state=" << conn_state(c.state()) << " in=" << c.bytes_in() << " out=" << c.bytes_out();
  if (!e.reason().empty()) out << " reason=\"" << e.reason() << "\"";
  out << "\n";
}

void print_close(std::ostream& out, const v1::CloseConnectionsResponse& r, bool dry_run) {
  // A count and the first ids: 19,000 ids on one line help nobody (--json lists them all).
  constexpr int kShownIds = 20;
  out << (dry_run ? "would close " : "matched ") << r.matched() << " connection(s)";
  if (r.matched_ids_size() > 0) {
    out << (r.matched_ids_size() > kShownIds ? "; first " + std::to_string(kShownIds) + " ids:" : ":");
    for (int i = 0; i < std::min(r.matched_ids_size(), kShownIds); ++i) out << " " << r.matched_ids(i);
    if (r.matched_ids_size() > kShownIds) {
      out << " ... (" << r.matched_ids_size() - kShownIds << " more; --json lists all)";
    }
  }
  out << "\n";
  if (!dry_run) out << "closed " << r.closed() << ", still closing " << r.still_closing() << "\n";
}

}  // namespace reactorctl
