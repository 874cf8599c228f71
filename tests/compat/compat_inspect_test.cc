// libreactor_event_inspect: the seed's server, unmodified, relinked with our libraries and
// started with REACTOR_EVENT_INSPECT=127.0.0.1:0, is inspected with the real reactorctl — its
// listener, its SIGINT event and a client's bufferevent show up. And a program that calls
// reactor_event_serve_inspection() itself.
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "seed_program.h"
#include "support/child_process.h"
#include "support/tcp_client.h"

namespace reactord::compat_test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult reactorctl(int port, std::vector<std::string> args) {
  std::vector<std::string> argv = {REACTORCTL_BIN, "--target", "127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 30s);
}

std::string inspect_lib_env() {
  return std::string("LD_LIBRARY_PATH=") + COMPAT_LIB_DIR + ":" + INSPECT_LIB_DIR;
}

TEST(CompatInspectTest, ReactorctlSeesTheSeedServersEvents) {
  auto seed = find_seed_file();
  ASSERT_TRUE(seed);
  const std::string code = extract_server_code(read_file(*seed));
  ASSERT_FALSE(code.empty());
  // The unmodified program, relinked: the inspection library is only linked in.
  TempDir dir;
  const std::string source = dir.path() + "/hello-world.c";
  std::ofstream(source) << code;
  const std::string binary = dir.path() + "/hello-world";
  // The unmodified program, relinked: the inspection library is only linked in.
  auto built = run(cc_against_reactor_event(
      source, binary,
      {std::string("-L") + INSPECT_LIB_DIR, "-Wl,--no-as-needed", "-lreactor_event_inspect"}));
  ASSERT_EQ(built.exit_code, 0) << built.output;

  SeedPortLock lock;
  ASSERT_TRUE(lock.port_free());
  reactord::test_support::ConsoleProcess server({binary},
                                                {inspect_lib_env(), "REACTOR_EVENT_INSPECT=127.0.0.1:0"});
  auto port_text = server.wait_for_output(R"(inspection of base 1 on 127\.0\.0\.1:(\d+))", 20s);
  ASSERT_TRUE(port_text) << server.output();
  const int port = std::stoi(*port_text);

  // The inspection server starts with the base, before the listener: connect when it listens.
  reactor::UniqueFd client;
  for (int i = 0; i < 400 && !client; ++i) {
    client = reactord::test_support::connect_to(reactor::SocketAddress::ipv4_loopback(kSeedPort));
    if (!client) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(client.valid());
  ASSERT_EQ(reactord::test_support::read_exactly(client.get(), 14), "Hello, World!\n");

  auto events = reactorctl(port, {"events"});
  ASSERT_EQ(events.exit_code, 0) << events.output;
  EXPECT_TRUE(std::regex_search(events.output, std::regex(R"(io\s+\d+\s+READ\|PERSIST\s+pending.*listener)")))
      << events.output;
  EXPECT_TRUE(
      std::regex_search(events.output, std::regex(R"(signal\s+sig 2\s+SIGNAL\|PERSIST\s+pending.*evsignal)")))
      << events.output;
  EXPECT_NE(events.output.find("bev.read"), std::string::npos) << events.output;

  auto signals = reactorctl(port, {"events", "--kind", "signal"});
  ASSERT_EQ(signals.exit_code, 0) << signals.output;
  EXPECT_NE(signals.output.find("1 event(s)"), std::string::npos) << signals.output;

  auto json = reactorctl(port, {"--json", "events", "--state", "pending"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"label\":\"listener\""), std::string::npos) << json.output;

  auto stats = reactorctl(port, {"stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_TRUE(std::regex_search(stats.output, std::regex(R"(\n\s*0\s+[1-9]\d*\s+[1-9])"))) << stats.output;

  auto bad_loop = reactorctl(port, {"events", "--loop", "3"});
  EXPECT_EQ(bad_loop.exit_code, 1);
  EXPECT_NE(bad_loop.output.find("INVALID_ARGUMENT"), std::string::npos) << bad_loop.output;

  // The program still behaves as the seed says, and stops the inspection server at
  // event_base_free.
  client.reset();
  server.signal(SIGINT);
  auto exit_code = server.wait_exit(30s);
  ASSERT_TRUE(exit_code);
  EXPECT_EQ(*exit_code, 0) << server.output();
  EXPECT_NE(server.output().find("Caught an interrupt signal; exiting cleanly in two seconds.\ndone\n"),
            std::string::npos)
      << server.output();
}

TEST(CompatInspectTest, ProgramCallsServeInspection) {
  reactord::test_support::ConsoleProcess program({INSPECT_API_BIN}, {inspect_lib_env()});
  auto port_text = program.wait_for_output(R"(port (\d+)\n)", 20s);
  ASSERT_TRUE(port_text) << program.output();
  const int port = std::stoi(*port_text);
  ASSERT_GT(port, 0);
  EXPECT_NE(program.output().find("serve again: -1"), std::string::npos) << program.output();

  auto timers = reactorctl(port, {"events", "--kind", "timer"});
  ASSERT_EQ(timers.exit_code, 0) << timers.output;
  EXPECT_TRUE(std::regex_search(
      timers.output, std::regex(R"(timer\s+-\s+PERSIST\s+pending\s+-\s+0\s+\d+m\d+s\s+-\s+evtimer)")))
      << timers.output;
  auto by_fd = reactorctl(port, {"events", "--fd", "0"});
  ASSERT_EQ(by_fd.exit_code, 0) << by_fd.output;
  EXPECT_NE(by_fd.output.find("READ|PERSIST"), std::string::npos) << by_fd.output;
  EXPECT_NE(by_fd.output.find("1 event(s)"), std::string::npos) << by_fd.output;

  program.signal(SIGTERM);
  auto code = program.wait_exit(30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << program.output();
  EXPECT_NE(program.output().find("done\n"), std::string::npos);
}

}  // namespace
}  // namespace reactord::compat_test
