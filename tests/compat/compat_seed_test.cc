// The seed's hello-world server, extracted from the seed notes and compiled unchanged with
// `cc hello.c -I<include> -L<dir> -lreactor_event`, driven by a client: the greeting, the
// echo, the SIGINT message and the exit about two seconds later — and the same output as the
// very same source built against libevent.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "seed_program.h"
#include "support/child_process.h"
#include "support/tcp_client.h"

namespace reactord::compat_test {
namespace {

using namespace std::chrono_literals;
using reactord::test_support::connect_to;
using reactord::test_support::read_exactly;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Connects to the seed server (it may still be starting), within a deadline.
reactor::UniqueFd connect_to_seed() {
  const auto address = reactor::SocketAddress::ipv4_loopback(kSeedPort);
  for (int i = 0; i < 200; ++i) {
    if (auto fd = connect_to(address)) return fd;
    std::this_thread::sleep_for(50ms);
  }
  return reactor::UniqueFd();
}

bool send_all(int fd, const std::string& text) {
  return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

struct SeedRun {
  std::string output;
  int exit_code = -1;
  double seconds_after_sigint = 0;
};

// Runs a built seed server and drives it: greeting, echo, close, SIGINT.
SeedRun drive(const std::string& binary, const std::vector<std::string>& env) {
  SeedRun r;
  reactord::test_support::ConsoleProcess server({binary}, env);
  EXPECT_TRUE(server.started());
  auto client = connect_to_seed();
  EXPECT_TRUE(client.valid()) << "the seed server did not listen on " << kSeedPort;
  if (!client) return r;
  EXPECT_EQ(read_exactly(client.get(), 14), "Hello, World!\n");
  EXPECT_TRUE(send_all(client.get(), "hi\n"));
  EXPECT_EQ(read_exactly(client.get(), 3), "hi\n");  // conn_readcb echoes
  // Close, and wait until the server has freed the connection (its fd count drops back), so
  // "Connection closed." is printed before the signal's message, deterministically.
  const int with_client = open_fd_count(server.pid());
  client.reset();
  for (int i = 0; i < 400 && open_fd_count(server.pid()) >= with_client; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_LT(open_fd_count(server.pid()), with_client) << "the server kept the closed connection";
  // A second client is served as well.
  auto second = connect_to_seed();
  EXPECT_EQ(read_exactly(second.get(), 14), "Hello, World!\n");
  second.reset();
  for (int i = 0; i < 400 && open_fd_count(server.pid()) >= with_client; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  const auto sent = std::chrono::steady_clock::now();
  server.signal(SIGINT);
  auto code = server.wait_exit(30s);
  r.seconds_after_sigint = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  r.exit_code = code ? *code : -1;
  r.output = server.output();
  return r;
}

class SeedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto seed = find_seed_file();
    ASSERT_TRUE(seed) << "seed notes not found (shared/seed next to the repository, or "
                         "REACTORD_SEED_DIR)";
    code_ = extract_server_code(read_file(*seed));
    ASSERT_FALSE(code_.empty()) << "no server code block in " << *seed;
    ASSERT_FALSE(dir_.path().empty());
    source_ = dir_.path() + "/hello-world.c";
    std::ofstream(source_) << code_;
  }

  TempDir dir_;
  std::string code_;
  std::string source_;
};

TEST_F(SeedServerTest, CompilesUnchangedAndBehavesAsOnLibevent) {
  const std::string ours = dir_.path() + "/hello-world-reactor";
  const std::string theirs = dir_.path() + "/hello-world-libevent";
  auto built = run(cc_against_reactor_event(source_, ours));
  ASSERT_EQ(built.exit_code, 0) << built.output;
  auto built_ref = run(cc_against_libevent(source_, theirs));
  ASSERT_EQ(built_ref.exit_code, 0) << built_ref.output;

  SeedPortLock lock;
  ASSERT_TRUE(lock.port_free()) << "port " << kSeedPort << " stays busy";
  const SeedRun reference = drive(theirs, {});
  const std::string expected =
      "hi\n\nConnection closed.\nConnection closed.\n"
      "Caught an interrupt signal; exiting cleanly in two seconds.\ndone\n";
  ASSERT_EQ(reference.output, expected) << "libevent itself behaves differently";

  for (const char* backend : {"epoll", "poll"}) {
    SCOPED_TRACE(backend);
    std::vector<std::string> env = {library_path_env()};
    if (std::string(backend) == "poll") env.push_back("EVENT_NOEPOLL=1");
    const SeedRun r = drive(ours, env);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output, reference.output);
    // "exiting cleanly in two seconds": event_base_loopexit(base, {2, 0}).
    EXPECT_GE(r.seconds_after_sigint, 1.9);
    EXPECT_LT(r.seconds_after_sigint, 20.0);
  }
}

TEST_F(SeedServerTest, LinksOnlyTheCompatLibraryAndNoCxxHeaders) {
  // The headers are plain C: a C compiler in strict C99 mode takes every one of them.
  const std::string probe = dir_.path() + "/all_headers.c";
  std::ofstream(probe) << "#include <event2/event.h>\n#include <event2/buffer.h>\n"
                          "#include <event2/bufferevent.h>\n#include <event2/listener.h>\n"
                          "#include <event2/util.h>\n"
                          "int main(void) { struct event_base *b = event_base_new();\n"
                          "  event_base_free(b); return 0; }\n";
  // Nothing but -lreactor_event (and, in a sanitizer build, the sanitizer runtime: under clang
  // the program must bring it, the library does not).
  auto built = run(cc_against_reactor_event(probe, dir_.path() + "/all_headers",
                                            {"-std=c99", "-Wall", "-Werror", "-pedantic"}));
  EXPECT_EQ(built.exit_code, 0) << built.output;
  // What is not provided fails at compile time: evhttp is not declared.
  const std::string missing = dir_.path() + "/missing.c";
  std::ofstream(missing) << "#include <event2/event.h>\n#include <event2/bufferevent.h>\n"
                            "int main(void) { return bufferevent_socket_connect_hostname != 0; }\n";
  auto refused = run(
      {COMPAT_CC, "-c", missing, std::string("-I") + COMPAT_INCLUDE_DIR, "-o", dir_.path() + "/missing.o"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("bufferevent_socket_connect_hostname"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace reactord::compat_test
