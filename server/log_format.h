// --log-format: how reactord's log lines look on stderr.
//   text  2026-11-29T12:51:05.123Z [info] message        (UTC, stated by the trailing Z)
//   json  {"ts":"2026-11-29T12:51:05.123Z","level":"info","logger":"reactord","thread":1234,"msg":"message"}
// JSON is one object per line with these stable field names; ts is RFC 3339 in UTC with
// milliseconds; level is one of trace, debug, info, warn, error, critical; msg is always
// valid UTF-8 (bytes that are not become U+FFFD), so a log pipeline never rejects a line.
#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

#include "server/config.h"

namespace reactord {

// --log-level's value as spdlog's level. Any thread.
spdlog::level::level_enum to_spdlog(LogLevel level);

// A fresh formatter for spdlog (set_formatter / spdlog::set_formatter). Any thread.
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);

// Appends text to out as the contents of a JSON string (no quotes): '"', '\\' and control
// characters escaped, invalid UTF-8 replaced by U+FFFD. Any thread.
void append_json_string(std::string_view text, std::string& out);

}  // namespace reactord
