// Every binary as a person types it: one duration/size grammar (units/units.h) with the same
// answer and the same words in reactord, reactorctl, reactor-client and reactor-bench; every
// usage error exits 2 with one line on stderr naming the flag or argument; --version; --help
// with examples and the exit codes.
#include <algorithm>

#include "reactord_process.h"

namespace reactord::test_support {
namespace {

std::size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

void expect_usage_error(const std::vector<std::string>& argv, const std::string& names) {
  std::string cmd;
  for (const auto& a : argv) cmd += a + " ";
  auto r = run_command(argv, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
  EXPECT_EQ(lines(r.err), 1u) << cmd << ": one line expected:\n" << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << cmd << ": should name " << names << ":\n" << r.err;
  EXPECT_EQ(r.out, "") << cmd;
}

TEST(CliGrammar, EveryBinaryRefusesABareNumberAsADurationWithTheSameWords) {
  const std::string why = "'5' has no unit: write 5s, 5ms, 5m, 5h or 5us";
  expect_usage_error({REACTORD_BIN, "--idle-timeout", "5"}, "--idle-timeout '5': " + why);
  expect_usage_error({REACTORCTL_BIN, "--timeout", "5", "info"}, "--timeout: " + why);
  expect_usage_error({REACTOR_CLIENT_BIN, "--timeout", "5"}, "--timeout: " + why);
  expect_usage_error({REACTOR_BENCH_BIN, "127.0.0.1:1", "-t", "5"}, "--duration: " + why);
}

TEST(CliGrammar, EveryBinaryRefusesAmbiguousSizes) {
  const std::string why = "'64KB' is ambiguous (1000 or 1024?)";
  expect_usage_error({REACTORD_BIN, "--max-output-buffer", "64KB"}, "--max-output-buffer '64KB': " + why);
  expect_usage_error({REACTORCTL_BIN, "conns", "--min-in", "64KB"}, "--min-in: " + why);
  expect_usage_error({REACTOR_BENCH_BIN, "127.0.0.1:1", "-s", "64KB"}, "--size: " + why);
}

TEST(CliGrammar, EveryBinaryAcceptsCompoundDurationsAndBinarySizes) {
  // reactord checks --log-level after the durations and sizes: only it may be refused.
  auto d = run_command({REACTORD_BIN, "--idle-timeout", "1h30m", "--drain-timeout", "1.5s",
                        "--max-output-buffer", "1.5MiB", "--log-level", "loud"});
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_NE(d.err.find("--log-level"), std::string::npos) << d.err;
  // The others get as far as connecting to a closed port: exit 1, not a usage error.
  auto ctl = run_command({REACTORCTL_BIN, "--timeout", "1h30m", "--target", "127.0.0.1:1", "conns",
                          "--min-in", "1.5K", "--min-age", "1m30s"});
  EXPECT_EQ(ctl.exit_code, 1) << ctl.err;
  EXPECT_NE(ctl.err.find("UNAVAILABLE"), std::string::npos) << ctl.err;
  auto client = run_command({REACTOR_CLIENT_BIN, "127.0.0.1:1", "--send", "x", "--timeout", "1h30m"});
  EXPECT_EQ(client.exit_code, 1) << client.err;
  auto bench = run_command(
      {REACTOR_BENCH_BIN, "127.0.0.1:1", "-s", "1.5K", "--idle", "1", "--timeout", "1h30m", "--hold", "1ms"});
  EXPECT_EQ(bench.exit_code, 1) << bench.err;
}

TEST(CliUsage, ReactorctlUsageErrorsExit2NamingTheFlag) {
  expect_usage_error({REACTORCTL_BIN, "conn", "-5"}, "ID: '-5' is not a whole number");
  expect_usage_error({REACTORCTL_BIN, "conn", "abc"}, "ID: 'abc'");
  expect_usage_error({REACTORCTL_BIN, "conn", "18446744073709551616"}, "ID");
  expect_usage_error({REACTORCTL_BIN, "conn"}, "ID is required");
  expect_usage_error({REACTORCTL_BIN, "close", "1", "-2"}, "IDS: '-2'");
  expect_usage_error({REACTORCTL_BIN, "conns", "--loop", "-1"}, "--loop: '-1'");
  expect_usage_error({REACTORCTL_BIN, "conns", "--page-size", "ten"}, "--page-size");
  expect_usage_error({REACTORCTL_BIN, "conns", "--id", "-7"}, "--id: '-7'");
  expect_usage_error({REACTORCTL_BIN, "events", "--owner", "-1"}, "--owner");
  expect_usage_error({REACTORCTL_BIN, "exit", "--delay", "-1s"}, "--delay: a duration cannot be negative");
  expect_usage_error({REACTORCTL_BIN, "close", "--filter", "--deadline", "soon"}, "--deadline");
  expect_usage_error({REACTORCTL_BIN, "conns", "--watch", "0"}, "--watch");
  expect_usage_error({REACTORCTL_BIN, "--timeout", "0", "info"}, "--timeout");
  expect_usage_error({REACTORCTL_BIN, "--bogus", "info"}, "--bogus");
  expect_usage_error({REACTORCTL_BIN, "info", "--bogus"}, "--bogus");
  expect_usage_error({REACTORCTL_BIN, "frobnicate"}, "unknown command or argument 'frobnicate'");
  expect_usage_error({REACTORCTL_BIN, "conn", "5", "6"}, "'6'");
  expect_usage_error({REACTORCTL_BIN}, "a command is required");
  expect_usage_error({REACTORCTL_BIN, "--token-file", "/nonexistent/token", "info"}, "token file");
  expect_usage_error({REACTORCTL_BIN, "close", "--target", "127.0.0.1:1"}, "give connection ids");
}

TEST(CliUsage, ClientAndBenchUsageErrorsExit2NamingTheFlag) {
  expect_usage_error({REACTOR_CLIENT_BIN, "--timeout", "later"}, "--timeout");
  expect_usage_error({REACTOR_CLIENT_BIN, "--bogus"}, "--bogus");
  expect_usage_error({REACTOR_CLIENT_BIN, "127.0.0.1:1", "extra"}, "extra");
  expect_usage_error({REACTOR_BENCH_BIN}, "address is required");
  expect_usage_error({REACTOR_BENCH_BIN, "127.0.0.1:1", "-c", "0"}, "--connections");
  expect_usage_error({REACTOR_BENCH_BIN, "127.0.0.1:1", "-c", "-5"}, "--connections");
  expect_usage_error({REACTOR_BENCH_BIN, "127.0.0.1:1", "-s", "32MiB"}, "--size");
  expect_usage_error({REACTOR_BENCH_BIN, "127.0.0.1:1", "--hold", "-1s"}, "--hold");
  expect_usage_error({REACTOR_BENCH_BIN, "not an address"}, "'not an address'");
}

TEST(CliUsage, ReactorctlVersionAndHelpWithExamplesAndExitCodes) {
  auto version = run_command({REACTORCTL_BIN, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("reactorctl 0.", 0), 0u) << version.out;
  auto help = run_command({REACTORCTL_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* part :
       {"Examples:", "reactorctl conns --watch", "Exit codes: 0 ok, 1", "2 usage error, 3 NOT_SERVING",
        "before or after the command", "1h30m", "64K = 64KiB"}) {
    EXPECT_NE(help.out.find(part), std::string::npos) << part << " in:\n" << help.out;
  }
  for (const char* cmd : {"info", "conns", "conn", "events", "stats", "watch", "close", "drain", "resume",
                          "exit", "break", "health"}) {
    auto sub = run_command({REACTORCTL_BIN, cmd, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << cmd;
    EXPECT_NE(sub.out.find(std::string("  reactorctl ") + cmd), std::string::npos)
        << cmd << " --help should show an example:\n"
        << sub.out;
  }
  for (const char* bin : {REACTOR_CLIENT_BIN, REACTOR_BENCH_BIN}) {
    auto v = run_command({bin, "--version"});
    EXPECT_EQ(v.exit_code, 0) << bin;
    EXPECT_NE(v.out.find(" 0."), std::string::npos) << bin << ": " << v.out;
    auto h = run_command({bin, "--help"});
    EXPECT_EQ(h.exit_code, 0) << bin;
    EXPECT_NE(h.out.find("Examples:"), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("2 usage error"), std::string::npos) << h.out;
  }
}

}  // namespace
}  // namespace reactord::test_support
