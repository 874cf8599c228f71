// The audit log: a logger of its own ("audit"), so that --log-level never silences it. Every
// Control call writes one line to it (see server/control/handler_steps.h). --audit-log says
// where: "stderr" (the default) or a file path (appended to, flushed at every line).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace reactord {

// Creates and registers the "audit" logger writing to `where`. nullptr with one line in
// *error ("--audit-log /x/y: cannot open: No such file or directory") when a file cannot be
// opened. Main thread, before the server starts.
std::shared_ptr<spdlog::logger> make_audit_logger(const std::string& where, std::string* error);

}  // namespace reactord
