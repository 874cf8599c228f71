// reactord: greets every TCP client and echoes what it sends (see README.md).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <variant>

#include "server/audit_log.h"
#include "server/config.h"
#include "server/log_format.h"
#include "server/control/control_plane.h"
#include "server/fd_limits.h"
#include "server/metrics/control_metrics.h"
#include "server/metrics/metrics_component.h"
#include "server/server.h"
#include "server/status/status_page.h"
#include "systemd_notify.h"

int main(int argc, char** argv) {
  reactord::ConfigResult parsed = reactord::parse_config(argc, argv);
  if (auto* exit = std::get_if<reactord::ConfigExit>(&parsed)) {
    std::fputs(exit->message.c_str(), exit->exit_code == 0 ? stdout : stderr);
    return exit->exit_code;
  }
  reactord::Config config = std::get<reactord::ParsedConfig>(parsed).config;
  config.handle_signals = true;

  // Logs go to stderr (stdout carries the seed's SIGINT line); one line per event worth
  // knowing, never one per message. --log-format applies to every logger, also those
  // made later (spdlog's registry hands its formatter to new loggers).
  auto logger = spdlog::stderr_logger_mt("reactord");
  logger->set_level(reactord::to_spdlog(config.log_level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  spdlog::set_formatter(reactord::make_log_formatter(config.log_format));
  // The audit log is a logger of its own: --log-level does not apply to it.
  std::string audit_error;
  if (!reactord::make_audit_logger(config.audit_log, &audit_error)) {
    std::fprintf(stderr, "reactord: %s\n", audit_error.c_str());
    return 2;
  }
  if (config.log_format == reactord::LogFormat::kJson) {
    spdlog::get("audit")->set_formatter(reactord::make_log_formatter(config.log_format));
  }

  // As HAProxy and nginx: use every fd the hard limit allows (the soft one is often 1024).
  const reactord::NofileLimit nofile = reactord::raise_nofile_limit();
  if (nofile.raised()) {
    spdlog::info("fd limit: raised the soft RLIMIT_NOFILE from {} to the hard limit {}", nofile.soft_before,
                 nofile.soft);
  } else if (nofile.soft != nofile.hard) {
    spdlog::warn("fd limit: cannot raise the soft RLIMIT_NOFILE {} to the hard limit {}", nofile.soft,
                 nofile.hard);
  }

  reactord::Server server(config);
  // Prometheus exporter on --metrics-listen. The control plane records its RPCs in
  // control_metrics (shared with it), served on the same page.
  auto control_metrics = std::make_shared<reactord::metrics::ControlMetrics>();
  server.add_component(std::make_unique<reactord::metrics::MetricsComponent>(control_metrics));
  auto control = std::make_unique<reactord::control::ControlPlane>(
      reactord::control::ControlOptions{config.control, control_metrics});
  auto* control_plane = control.get();
  server.add_component(std::move(control));
  // The status page reads through the control plane (added after it, so started after it).
  reactord::status::StatusPageOptions status_options;
  status_options.listen = config.http_listen;
  status_options.token_file = config.control.token_file;
  status_options.viewer_token_file = config.control.viewer_token_file;
  status_options.channel = [control_plane] { return control_plane->in_process_channel(); };
  server.add_component(std::make_unique<reactord::status::StatusPage>(std::move(status_options)));
  // Last: READY=1 once everything above serves.
  server.add_component(std::make_unique<reactord::SystemdNotify>());
  try {
    server.start();
  } catch (const reactord::ConfigError& e) {
    // Checked before anything was bound: a usage error like a bad flag value.
    std::fprintf(stderr, "reactord: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reactord: %s\n", e.what());
    return 1;
  }
  // Always printed, whatever --log-level says: scripts and tests read the bound port here.
  std::printf("listening on %s\n", server.listen_address().to_string().c_str());
  if (auto tls = server.tls_listen_address())
    std::printf("listening for TLS on %s\n", tls->to_string().c_str());
  std::fflush(stdout);
  const int code = server.wait();
  std::printf("done\n");
  return code;
}
