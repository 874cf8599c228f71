// parse_config and its value parsers: flags, REACTORD_* environment, errors, --help/--version.
#include <gtest/gtest.h>

#include <algorithm>

#include <sstream>

#include <cstdlib>
#include <cstdio>

#include <unistd.h>

#include "server/config.h"
#include "server/rate_limits.h"

namespace reactord {
namespace {

using namespace std::chrono_literals;

ConfigResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "reactord");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

Config parsed(std::vector<std::string> args) {
  ConfigResult r = parse(std::move(args));
  if (auto* e = std::get_if<ConfigExit>(&r)) {
    ADD_FAILURE() << "unexpected exit " << e->exit_code << ": " << e->message;
    return Config{};
  }
  return std::get<ParsedConfig>(r).config;
}

ConfigExit exited(std::vector<std::string> args) {
  ConfigResult r = parse(std::move(args));
  if (!std::holds_alternative<ConfigExit>(r)) {
    ADD_FAILURE() << "parse succeeded";
    return ConfigExit{};
  }
  return std::get<ConfigExit>(r);
}

// Durations and sizes follow the one grammar of every binary (units/units.h, tested in
// tests/units): reactord refuses what reactorctl refuses, with the same words.
TEST(Config, DurationsAndSizesUseTheSharedGrammar) {
  EXPECT_EQ(parsed({"--idle-timeout", "1h30m"}).idle_timeout, reactor::Duration(90min));
  EXPECT_EQ(parsed({"--drain-timeout", "1.5s"}).drain_timeout, reactor::Duration(1500ms));
  EXPECT_EQ(parsed({"--idle-timeout", "0"}).idle_timeout, reactor::Duration(0));
  EXPECT_EQ(parsed({"--max-output-buffer", "1.5MiB"}).max_output_buffer, 1572864u);
  EXPECT_EQ(parsed({"--max-output-buffer", "64k"}).max_output_buffer, 65536u);
  ConfigExit bare = exited({"--idle-timeout", "30"});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_EQ(bare.message,
            "reactord: invalid --idle-timeout '30': '30' has no unit: write 30s, 30ms, 30m, 30h or 30us\n");
  ConfigExit kb = exited({"--max-output-buffer", "64KB"});
  EXPECT_EQ(kb.exit_code, 2);
  EXPECT_NE(kb.message.find("invalid --max-output-buffer '64KB': '64KB' is ambiguous"), std::string::npos)
      << kb.message;
  // The upper bound an idle connection's 32-bit bytes-out baseline serves (issue #19): at the
  // bound it parses, past it the flag is refused in one line.
  EXPECT_EQ(parsed({"--max-output-buffer", "1GiB"}).max_output_buffer, kMaxOutputBufferLimit);
  EXPECT_EQ(exited({"--max-output-buffer", "2GiB"}).message,
            "reactord: invalid --max-output-buffer '2GiB': at most 1GiB\n");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(30s), "30s");
}

TEST(Config, DefaultsMatchTheSeedAndTheIssue) {
  Config c = parsed({});
  EXPECT_EQ(c.listen.to_string(), "0.0.0.0:9995");
  EXPECT_EQ(c.control.listen.to_string(), "127.0.0.1:50051");
  EXPECT_EQ(c.metrics_listen.to_string(), "127.0.0.1:9464");
  EXPECT_EQ(c.loops, 1u);
  EXPECT_EQ(c.greeting, "Hello, World!\n");
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
}

TEST(Config, EveryFlagIsParsed) {
  Config c = parsed(
      {"--listen",       "[::1]:0", "--control-listen",    "127.0.0.1:1", "--metrics-listen",  "127.0.0.1:2",
       "--loops",        "3",       "--accept-mode",       "single",      "--max-connections", "7",
       "--idle-timeout", "2m",      "--max-output-buffer", "64KiB",       "--drain-timeout",   "500ms",
       "--log-level",    "debug",   "--greeting",          "hi"});
  EXPECT_TRUE(c.listen.is_ipv6());
  EXPECT_EQ(c.listen.port(), 0);
  EXPECT_EQ(c.control.listen.port(), 1);
  EXPECT_EQ(c.metrics_listen.port(), 2);
  EXPECT_EQ(c.loops, 3u);
  EXPECT_EQ(c.accept_mode, AcceptMode::kSingle);
  EXPECT_EQ(c.max_connections, 7u);
  EXPECT_EQ(c.idle_timeout, reactor::Duration(2min));
  EXPECT_EQ(c.max_output_buffer, 65536u);
  EXPECT_EQ(c.drain_timeout, reactor::Duration(500ms));
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.greeting, "hi\n");  // a greeting is a line: the newline is added
  Config eq = parsed({"--loops=2", "--idle-timeout=0"});
  EXPECT_EQ(eq.loops, 2u);
  EXPECT_EQ(eq.idle_timeout.count(), 0);
}

TEST(Config, EnvironmentProvidesFlagsAndTheCommandLineWins) {
  ::setenv("REACTORD_LISTEN", "127.0.0.1:7777", 1);
  ::setenv("REACTORD_MAX_CONNECTIONS", "42", 1);
  ::setenv("REACTORD_IDLE_TIMEOUT", "3s", 1);
  Config c = parsed({"--max-connections", "43"});
  ::unsetenv("REACTORD_LISTEN");
  ::unsetenv("REACTORD_MAX_CONNECTIONS");
  ::unsetenv("REACTORD_IDLE_TIMEOUT");
  EXPECT_EQ(c.listen.to_string(), "127.0.0.1:7777");
  EXPECT_EQ(c.max_connections, 43u);
  EXPECT_EQ(c.idle_timeout, reactor::Duration(3s));
  ::setenv("REACTORD_LOOPS", "zero", 1);
  ConfigExit e = exited({});
  ::unsetenv("REACTORD_LOOPS");
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.message.find("--loops"), std::string::npos) << e.message;
}

TEST(Config, BadValuesGiveOneClearLine) {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  const Case cases[] = {
      {{"--loops", "0"}, "--loops"},
      {{"--loops", "many"}, "--loops"},
      {{"--listen", "nowhere"}, "--listen"},
      {{"--listen", "1.2.3.4:99999"}, "--listen"},
      {{"--control-listen", "localhost"}, "--control-listen"},
      {{"--metrics-listen", ":"}, "--metrics-listen"},
      {{"--idle-timeout", "soon"}, "--idle-timeout"},
      {{"--drain-timeout", "-1s"}, "--drain-timeout"},
      {{"--max-output-buffer", "10"}, "--max-output-buffer"},
      {{"--max-connections", "0"}, "--max-connections"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--accept-mode", "random"}, "--accept-mode"},
      {{"--no-such-flag"}, "no-such-flag"},
      {{"--loops"}, "loops"},
  };
  for (const Case& c : cases) {
    ConfigExit e = exited(c.args);
    EXPECT_NE(e.exit_code, 0) << c.mentions;
    EXPECT_NE(e.message.find(c.mentions), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find('\n'), e.message.size() - 1) << "one line: " << e.message;
  }
}

TEST(Config, HelpAndVersionExitZero) {
  ConfigExit help = exited({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--listen", "--control-listen", "--metrics-listen", "--loops", "--max-connections", "--idle-timeout",
        "--max-output-buffer", "--drain-timeout", "--log-level", "--greeting", "REACTORD_"}) {
    EXPECT_NE(help.message.find(flag), std::string::npos) << flag;
  }
  ConfigExit version = exited({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.message.find("reactord "), std::string::npos);
}

TEST(Config, GreetingIsALine) {
  EXPECT_EQ(parsed({"--greeting", "hi there"}).greeting, "hi there\n");
  EXPECT_EQ(parsed({"--greeting", "hi there\n"}).greeting, "hi there\n");  // not doubled
  EXPECT_EQ(parsed({"--greeting", "two\nlines"}).greeting, "two\nlines\n");
  EXPECT_EQ(parsed({"--greeting", ""}).greeting, "");  // no greeting at all
}

TEST(Config, HelpShowsTheDefaultGreetingEscapedOnItsLine) {
  ConfigExit help = exited({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  // The default's newline is shown as \n, not as a line break inside the option list.
  EXPECT_NE(help.message.find("Hello, World!\\n"), std::string::npos) << help.message;
  std::istringstream lines(help.message);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("Hello, World!") != std::string::npos) {
      EXPECT_NE(line.find("--greeting"), std::string::npos) << "default on the flag's line: " << line;
    }
  }
}

}  // namespace
}  // namespace reactord

namespace reactord {
namespace {

// The bound flags (docs/RELIABILITY.md): parsed, and refused with one line that names the flag.
TEST(ConfigBounds, FlagsAreParsedAndBadOnesNamed) {
  std::vector<std::string> args = {
      "reactord", "--control-max-watchers",    "4",     "--watch-buffer-bytes",
      "64KiB",    "--watch-total-bytes",       "2MiB",  "--control-threads",
      "8",        "--control-memory",          "16MiB", "--control-max-message-bytes",
      "256KiB",   "--metrics-max-connections", "3",     "--metrics-request-timeout",
      "2s"};
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  auto result = parse_config(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(std::holds_alternative<ParsedConfig>(result));
  const BoundsConfig& b = std::get<ParsedConfig>(result).config.bounds;
  const control::ControlSettings& control = std::get<ParsedConfig>(result).config.control;
  EXPECT_EQ(control.watch.max_watchers, 4u);
  EXPECT_EQ(control.watch.buffer_bytes, 64u * 1024);
  EXPECT_EQ(control.watch.total_bytes, 2u << 20);
  EXPECT_EQ(control.grpc.max_threads, 8u);
  EXPECT_EQ(control.grpc.memory_bytes, 16u << 20);
  EXPECT_EQ(control.grpc.max_receive_message_bytes, 256u * 1024);
  EXPECT_EQ(b.metrics_max_connections, 3u);
  EXPECT_EQ(b.metrics_request_timeout, std::chrono::seconds(2));

  const std::vector<std::pair<std::vector<std::string>, const char*>> bad = {
      {{"--control-max-watchers", "0"}, "--control-max-watchers"},
      {{"--watch-buffer-bytes", "lots"}, "--watch-buffer-bytes"},
      {{"--watch-total-bytes", "10"}, "--watch-total-bytes"},
      {{"--control-threads", "2"}, "--control-threads"},
      {{"--control-max-watchers", "30", "--control-threads", "32"}, "--control-threads"},
      {{"--metrics-max-connections", "0"}, "--metrics-max-connections"},
      {{"--metrics-request-timeout", "1ms"}, "--metrics-request-timeout"},
  };
  for (const auto& [flags, mentions] : bad) {
    std::vector<const char*> v = {"reactord"};
    for (auto& f : flags) v.push_back(f.c_str());
    auto r = parse_config(static_cast<int>(v.size()), v.data());
    ASSERT_TRUE(std::holds_alternative<ConfigExit>(r)) << mentions;
    const auto& e = std::get<ConfigExit>(r);
    EXPECT_EQ(e.exit_code, 2);
    EXPECT_NE(e.message.find(mentions), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find('\n'), e.message.size() - 1) << e.message;
  }
}

// --config FILE: flags from a file (CLI11's format), read again by reparse_config at a reload.
TEST(ConfigFile, FlagsFromAFileReadAgainAtReload) {
  char path[] = "/tmp/reactord-config-test-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  auto write = [&](const std::string& text) {
    FILE* f = std::fopen(path, "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  write("log-level = \"debug\"\nmax-connections = 12\n");
  Config c = parsed({"--config", path, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.max_connections, 12u);
  EXPECT_EQ(c.config_file, path);
  // The command line wins over the file; the file over the environment.
  ::setenv("REACTORD_LOG_LEVEL", "error", 1);
  ::setenv("REACTORD_MAX_CONNECTIONS", "99", 1);
  c = parsed({"--config", path, "--max-connections", "13"});
  EXPECT_EQ(c.max_connections, 13u);
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  ::unsetenv("REACTORD_LOG_LEVEL");
  ::unsetenv("REACTORD_MAX_CONNECTIONS");

  // A reload parses the same arguments with the file as it is now.
  write("log-level = \"warn\"\nmax-connections = 12\n");
  ConfigResult again = reparse_config(c.args);
  ASSERT_TRUE(std::holds_alternative<ParsedConfig>(again));
  const Config& now = std::get<ParsedConfig>(again).config;
  EXPECT_EQ(now.log_level, LogLevel::kWarn);
  EXPECT_EQ(now.max_connections, 13u);
  auto differences = config_differences(c, now);
  ASSERT_EQ(differences.size(), 1u);
  EXPECT_EQ(differences[0], "--log-level debug -> warn");

  // REACTORD_CONFIG names the file when the command line does not.
  ::setenv("REACTORD_CONFIG", path, 1);
  c = parsed({});
  EXPECT_EQ(c.log_level, LogLevel::kWarn);
  ::unsetenv("REACTORD_CONFIG");

  // Errors name the file or the key.
  write("no-such-flag = 1\n");
  EXPECT_NE(exited({"--config", path}).message.find("no-such-flag"), std::string::npos);
  write("log-level = \"loud\"\n");
  EXPECT_NE(exited({"--config", path}).message.find("--log-level 'loud'"), std::string::npos);
  ::close(fd);
  ::unlink(path);
  EXPECT_EQ(exited({"--config", path}).exit_code, 2);
}

// --rate-limit-per-connection / --rate-limit-total: RATE[,BURST] in the size grammar, or off;
// bad values exit 2 naming the flag, before anything is bound.
TEST(Config, RateLimitsTakeRateAndBurst) {
  Config defaults = parsed({});
  EXPECT_FALSE(defaults.rate_limit_per_connection.has_value()) << "unlimited by default";
  EXPECT_FALSE(defaults.rate_limit_total.has_value());
  Config c = parsed({"--rate-limit-per-connection", "256KiB", "--rate-limit-total", "10M,40M"});
  ASSERT_TRUE(c.rate_limit_per_connection.has_value());
  EXPECT_EQ(c.rate_limit_per_connection->bytes_per_second, 256u * 1024);
  EXPECT_EQ(c.rate_limit_per_connection->burst, 256u * 1024) << "burst defaults to one second's worth";
  ASSERT_TRUE(c.rate_limit_total.has_value());
  EXPECT_EQ(c.rate_limit_total->bytes_per_second, 10u << 20);
  EXPECT_EQ(c.rate_limit_total->burst, 40u << 20);
  EXPECT_FALSE(parsed({"--rate-limit-total", "off"}).rate_limit_total.has_value());
  setenv("REACTORD_RATE_LIMIT_PER_CONNECTION", "64K", 1);
  EXPECT_EQ(parsed({}).rate_limit_per_connection->bytes_per_second, 64u * 1024);
  unsetenv("REACTORD_RATE_LIMIT_PER_CONNECTION");

  struct Bad {
    std::vector<std::string> args;
    std::string flag;
  };
  for (const Bad& b : std::vector<Bad>{
           {{"--rate-limit-per-connection", "fast"}, "--rate-limit-per-connection"},
           {{"--rate-limit-per-connection", "5"}, "--rate-limit-per-connection"},      // below 10 B/s
           {{"--rate-limit-per-connection", "1M,1K"}, "--rate-limit-per-connection"},  // burst < a tick
           {{"--rate-limit-total", "1MB"}, "--rate-limit-total"},                      // ambiguous unit
           {{"--rate-limit-total", "1M,"}, "--rate-limit-total"},
           {{"--rate-limit-total", "-1M"}, "--rate-limit-total"},
           {{"--rate-limit-total", "1M,3G"}, "--rate-limit-total"},  // burst >= 2 GiB
       }) {
    ConfigExit e = exited(b.args);
    EXPECT_EQ(e.exit_code, 2) << b.args[1];
    EXPECT_NE(e.message.find("invalid " + b.flag + " '" + b.args[1] + "'"), std::string::npos) << e.message;
    EXPECT_EQ(std::count(e.message.begin(), e.message.end(), '\n'), 1) << "one line: " << e.message;
  }
}

// The buckets behind a rate: a tick near 100 ms that divides the rate exactly, so what the
// bucket enforces (and GetConnection shows) is the rate asked for.
TEST(Config, RatesBecomeExactTokenBuckets) {
  const auto kib = to_token_buckets(units::Rate{256 * 1024, 64 * 1024});
  EXPECT_EQ(kib.tick, std::chrono::milliseconds(125));
  EXPECT_EQ(kib.read_rate, 32u * 1024);
  EXPECT_EQ(kib.write_burst, 64u * 1024);
  EXPECT_EQ(to_rate(kib), (units::Rate{256 * 1024, 64 * 1024}));
  const auto decimal = to_token_buckets(units::Rate{1'000'000, 1'000'000});
  EXPECT_EQ(decimal.tick, std::chrono::milliseconds(100));
  EXPECT_EQ(to_rate(decimal).bytes_per_second, 1'000'000u);
  const auto split = to_token_buckets(units::Rate{1 << 20, 1 << 20}, 4);
  EXPECT_EQ(to_rate(split), (units::Rate{1 << 18, 1 << 18})) << "a quarter per loop";
  EXPECT_TRUE(to_token_buckets(units::Rate{10, 1}).valid()) << "the smallest rate";
  EXPECT_TRUE(to_token_buckets(units::Rate{units::kMaxRate, units::kMaxBurst}).valid()) << "the largest";
}

}  // namespace
}  // namespace reactord
