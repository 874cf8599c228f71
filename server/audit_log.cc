#include "server/audit_log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace reactord {

std::shared_ptr<spdlog::logger> make_audit_logger(const std::string& where, std::string* error) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    spdlog::drop("audit");
    if (where.empty() || where == "stderr" || where == "-") {
      logger = spdlog::stderr_logger_mt("audit");
    } else {
      logger = spdlog::basic_logger_mt("audit", where, /*truncate=*/false);
    }
  } catch (const spdlog::spdlog_ex& e) {
    *error = "--audit-log " + where + ": " + e.what();
    return nullptr;
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [audit] %v");
  logger->set_level(spdlog::level::trace);  // whatever --log-level says
  logger->flush_on(spdlog::level::trace);   // an audit line is on disk when the RPC answers
  return logger;
}

}  // namespace reactord
