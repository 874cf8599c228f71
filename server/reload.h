// Reload without restart (SIGHUP, the Control RPC Reload): what a reload reports, item by item.
//
// A reload re-reads what may change under a running reactord — the token files, the TLS
// files, the log level (--config FILE or the RPC's level) — and applies each item on its own:
// an item whose new file is bad keeps the old one and says why (HAProxy's and Envoy's rule:
// a bad reload never takes a working server down). Server::reload() runs the items it owns
// (log level, --config) and then every Component's reload() hook, in the order the components
// were added; the report lists them all and is logged, audited, counted
// (reactord_reloads_total{result}) and returned by the RPC.
//
// A component plugs in by overriding Component::reload() (component.h): re-read its files,
// validate them fully, swap them in atomically for its readers, and return one ReloadItem per
// thing it reloads (unchanged / changed / kept, with the reason).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reactord {

struct ReloadItem {
  enum class Outcome {
    kUnchanged,     // re-read; the same as what is in force
    kChanged,       // re-read and applied
    kKept,          // the new one is bad (detail says why): the old one stays in force
    kNeedsRestart,  // changed, but only a restart applies it (a listen address, --loops ...)
  };
  std::string name;  // "control.admin_token", "control.tls", "log_level", "config" ...
  Outcome outcome = Outcome::kUnchanged;
  std::string detail;  // what changed, or why the old one is kept; one line
};

// "unchanged", "changed", "kept", "needs_restart". Any thread.
const char* to_string(ReloadItem::Outcome outcome);

struct ReloadReport {
  std::vector<ReloadItem> items;
  // No item kept its old value because of a bad new one. Any thread.
  bool ok() const;
  // "log_level=changed control.admin_token=kept(...)": the audit line's result. Any thread.
  std::string summary() const;
};

// Who asked for a reload, for the logs and the audit line.
struct ReloadRequest {
  std::string source = "SIGHUP";  // "SIGHUP" or "rpc"
  // The log level to apply instead of the configuration's (the RPC's `log_level`); empty = the
  // configuration's (--config FILE, else the command line / environment).
  std::string log_level;
};

// Totals since start, for metrics and GetServerInfo. Any thread (a copy).
struct ReloadStats {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::int64_t last_unix_ms = 0;  // 0 = never reloaded
  bool last_ok = true;
};

}  // namespace reactord
