// Server::reload (server/reload.h): the log level and the --config file, then every
// component's reload() hook.
#include <spdlog/spdlog.h>

#include <chrono>
#include <variant>

#include "server/log_format.h"
#include "server/server.h"

namespace reactord {

namespace {

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One line per item that is not "unchanged": what changed (info) or what was kept and why,
// and what needs a restart (warn).
void log_item(const std::string& source, const ReloadItem& item) {
  switch (item.outcome) {
    case ReloadItem::Outcome::kUnchanged:
      spdlog::debug("reload ({}): {} unchanged", source, item.name);
      break;
    case ReloadItem::Outcome::kChanged:
      spdlog::info("reload ({}): {} changed: {}", source, item.name, item.detail);
      break;
    case ReloadItem::Outcome::kKept:
      spdlog::warn("reload ({}): {} kept the old one: {}", source, item.name, item.detail);
      break;
    case ReloadItem::Outcome::kNeedsRestart:
      spdlog::warn("reload ({}): {} needs a restart: {}", source, item.name, item.detail);
      break;
  }
}

}  // namespace

void Server::reload_configuration(const ReloadRequest& request, ReloadReport& report) {
  // The configuration as it would be read now (--config re-read; the command line and the
  // environment are the process's own, so only the file can differ).
  // A Server made in-process (tests, embedders) without parse_config has no arguments to read
  // again: its configuration is what it was given.
  ConfigResult again =
      config_.args.empty() ? ConfigResult(ParsedConfig{config_}) : reparse_config(config_.args);
  const Config* fresh = std::get_if<ParsedConfig>(&again) ? &std::get<ParsedConfig>(again).config : nullptr;
  if (!config_.config_file.empty() || fresh == nullptr) {
    ReloadItem item{"config", ReloadItem::Outcome::kUnchanged, config_.config_file};
    if (fresh == nullptr) {
      std::string why = std::get<ConfigExit>(again).message;
      while (!why.empty() && why.back() == '\n') why.pop_back();
      if (why.rfind("reactord: ", 0) == 0) why.erase(0, 10);
      item.outcome = ReloadItem::Outcome::kKept;
      item.detail = why;
    }
    report.items.push_back(std::move(item));
  }
  if (fresh != nullptr) {
    // What changed in the file but only a restart applies (addresses, loops, bounds, paths).
    Config started = config_, now = *fresh;
    started.log_level = now.log_level = LogLevel::kInfo;  // reloadable: handled below
    auto differences = config_differences(started, now);
    if (!differences.empty()) {
      std::string detail;
      for (const auto& d : differences) detail += (detail.empty() ? "" : "; ") + d;
      report.items.push_back({"restart_settings", ReloadItem::Outcome::kNeedsRestart, detail});
    }
  }

  // The log level: the request's, else the configuration's.
  ReloadItem level{"log_level", ReloadItem::Outcome::kUnchanged, ""};
  std::optional<LogLevel> wanted;
  if (!request.log_level.empty()) {
    wanted = parse_log_level(request.log_level);
    if (!wanted) {
      level.outcome = ReloadItem::Outcome::kKept;
      level.detail = "unknown level '" + request.log_level.substr(0, 32) +
                     "' (trace, debug, info, warn, error, critical, off)";
    }
  } else if (fresh != nullptr) {
    wanted = fresh->log_level;
  } else {
    level.outcome = ReloadItem::Outcome::kKept;
    level.detail = "the configuration could not be read";
  }
  const LogLevel current = log_level();
  if (wanted) {
    level.detail = to_string(current);
    if (*wanted != current) {
      // Only reactord's own logger: the audit logger is never silenced (audit_log.h).
      spdlog::default_logger()->set_level(to_spdlog(*wanted));
      log_level_.store(static_cast<int>(*wanted));
      level.outcome = ReloadItem::Outcome::kChanged;
      level.detail = std::string(to_string(current)) + " -> " + to_string(*wanted);
    }
  }
  report.items.push_back(std::move(level));
}

ReloadReport Server::reload(const ReloadRequest& request) {
  ReloadReport report;
  std::lock_guard lock(reload_mutex_);
  if (!reload_open_) {
    report.items.push_back({"server", ReloadItem::Outcome::kKept,
                            std::string("not reloading while the server is ") + to_string(state())});
    spdlog::warn("reload ({}): ignored: the server is {}", request.source, to_string(state()));
    return report;
  }
  spdlog::info("reload ({}): re-reading the configuration and the files", request.source);
  reload_configuration(request, report);
  if (config_.tls_listen) {
    // The data plane's TLS (--tls-cert, --tls-key, --tls-client-ca): a new context for new
    // handshakes, live connections keep theirs; a bad file keeps the old one.
    std::string why;
    if (reload_tls(&why)) {
      report.items.push_back({"data.tls", ReloadItem::Outcome::kChanged,
                              "new handshakes use " + config_.tls_cert + " (re-read)"});
    } else {
      report.items.push_back({"data.tls", ReloadItem::Outcome::kKept, why});
    }
  }
  for (std::size_t i = 0; i < components_started_; ++i) {
    Component& component = *components_[i];
    try {
      for (auto& item : component.reload()) report.items.push_back(std::move(item));
    } catch (const std::exception& e) {  // reload() must not throw; keep serving if it does
      report.items.push_back({component.name(), ReloadItem::Outcome::kKept, e.what()});
    }
  }
  for (const auto& item : report.items) log_item(request.source, item);
  const bool ok = report.ok();
  (ok ? reloads_ok_ : reloads_failed_).fetch_add(1);
  last_reload_ok_.store(ok);
  last_reload_unix_ms_.store(now_unix_ms());
  spdlog::info("reload ({}): {}", request.source, ok ? "done" : "done, some items kept their old value");
  return report;
}

ReloadStats Server::reload_stats() const {
  ReloadStats s;
  s.ok = reloads_ok_.load();
  s.failed = reloads_failed_.load();
  s.last_unix_ms = last_reload_unix_ms_.load();
  s.last_ok = last_reload_ok_.load();
  return s;
}

}  // namespace reactord
