// --log-format: the flag, the JSON line's fields and escaping, the text line's UTC stamp.
// (log_format_check.py parses the real binary's stderr in both formats.)
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "server/config.h"
#include "server/log_format.h"

namespace reactord {
namespace {

std::string formatted(LogFormat format, spdlog::level::level_enum level, std::string_view text,
                      std::chrono::system_clock::time_point when) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "reactord", level,
                               spdlog::string_view_t(text.data(), text.size()));
  msg.time = when;
  msg.thread_id = 4242;
  spdlog::memory_buf_t out;
  make_log_formatter(format)->format(msg, out);
  return std::string(out.data(), out.size());
}

// 2026-11-29T12:51:05.123Z
const auto kWhen = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795956665123));

std::string escaped(std::string_view text) {
  std::string out;
  append_json_string(text, out);
  return out;
}

TEST(LogFormat, JsonLineHasTheStableFieldsInOrder) {
  EXPECT_EQ(formatted(LogFormat::kJson, spdlog::level::warn, "drain started", kWhen),
            "{\"ts\":\"2026-11-29T12:51:05.123Z\",\"level\":\"warn\",\"logger\":\"reactord\","
            "\"thread\":4242,\"msg\":\"drain started\"}\n");
  // The level names are --log-level's, not spdlog's ("warning", "err").
  EXPECT_NE(formatted(LogFormat::kJson, spdlog::level::err, "x", kWhen).find("\"level\":\"error\""),
            std::string::npos);
}

TEST(LogFormat, JsonEscapesQuotesControlsAndInvalidUtf8) {
  EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(escaped("line\nnext\ttab\r\x01\x7f"), "line\\nnext\\ttab\\r\\u0001\\u007f");
  EXPECT_EQ(escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, > U+10FFFF.
  EXPECT_EQ(escaped("\x80"), "\\ufffd");
  EXPECT_EQ(escaped("ab\xe2\x82"), "ab\\ufffd\\ufffd");
  EXPECT_EQ(escaped("\xc0\xaf"), "\\ufffd\\ufffd");
  EXPECT_EQ(escaped("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(escaped("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
  // One line per message whatever the message holds.
  const std::string line = formatted(LogFormat::kJson, spdlog::level::info, "a\nb\"\xff", kWhen);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogFormat, TextLineStatesUtc) {
  const std::string line = formatted(LogFormat::kText, spdlog::level::info, "hello", kWhen);
  EXPECT_EQ(line, "2026-11-29T12:51:05.123Z [info] hello\n");
}

ConfigResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "reactord");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

TEST(LogFormat, FlagDefaultsToTextAndRejectsOthers) {
  EXPECT_EQ(std::get<ParsedConfig>(parse({})).config.log_format, LogFormat::kText);
  EXPECT_EQ(std::get<ParsedConfig>(parse({"--log-format", "json"})).config.log_format, LogFormat::kJson);
  auto bad = parse({"--log-format", "xml"});
  ASSERT_TRUE(std::holds_alternative<ConfigExit>(bad));
  EXPECT_EQ(std::get<ConfigExit>(bad).exit_code, 2);
  EXPECT_NE(std::get<ConfigExit>(bad).message.find("--log-format 'xml': expected text or json"),
            std::string::npos);
}

}  // namespace
}  // namespace reactord
