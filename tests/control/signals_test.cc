// Signals on the real reactord binary: stray signals (SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE) and
// SIGHUP (a reload: reload_test.cc) do not end it, and SIGTERM / SIGINT still work after ExitLoop on loop 0
// (the loop that used to own the signal events).
#include <gtest/gtest.h>

#include "control_test_util.h"
#include "daemon_process.h"
#include "support/tcp_client.h"

namespace reactord::test_support {
namespace {

// The client is greeted and its bytes come back.
void expect_echo(const Daemon& d, const std::string& what) {
  reactor::UniqueFd fd = connect_to(d.data_address());
  ASSERT_TRUE(fd.valid()) << what;
  EXPECT_EQ(read_exactly(fd.get(), 14), "Hello, World!\n") << what;
  ASSERT_TRUE(write_all(fd.get(), "ping")) << what;
  EXPECT_EQ(read_exactly(fd.get(), 4), "ping") << what;
}

TEST(Signals, StraySignalsDoNotEndTheDaemon) {
  Daemon d;
  ASSERT_TRUE(d.ready()) << d.process.output();
  for (int signo : {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE}) {
    d.process.signal(signo);
    // Each is logged (SIGPIPE is ignored silently); the daemon goes on serving.
    if (signo != SIGPIPE) {
      EXPECT_TRUE(d.process.wait_for_output(std::string("SIG") + sigabbrev_np(signo) + " received", 5000ms))
          << sigabbrev_np(signo) << "\n"
          << d.process.output();
    }
    expect_echo(d, sigabbrev_np(signo));
  }
  EXPECT_FALSE(d.process.wait_exit(200ms).has_value()) << d.process.output();
  d.process.signal(SIGTERM);
  auto code = d.process.wait_exit(15000ms);
  ASSERT_TRUE(code.has_value()) << d.process.output();
  EXPECT_EQ(*code, 0) << d.process.output();
}

// ExitLoop(0) through the control plane; the other loop keeps serving.
void exit_loop_zero(Daemon& d) {
  v1::ExitLoopRequest request;
  request.set_loop(0);
  v1::LoopActionResponse response;
  ASSERT_TRUE(d.control()->ExitLoop(ctx().get(), request, &response).ok());
  // Loop 0 has ended when it says so (--log-level debug).
  ASSERT_TRUE(d.process.wait_for_output("loop 0 ended", 10000ms)) << d.process.output();
}

TEST(Signals, SigtermStillWorksAfterExitLoopZero) {
  Daemon d({"--loops", "2", "--drain-timeout", "2s", "--log-level", "debug"});
  ASSERT_TRUE(d.ready()) << d.process.output();
  exit_loop_zero(d);
  d.process.signal(SIGTERM);
  auto code = d.process.wait_exit(15000ms);
  ASSERT_TRUE(code.has_value()) << "SIGTERM ignored after ExitLoop(0)\n" << d.process.output();
  EXPECT_EQ(*code, 0) << d.process.output();
}

TEST(Signals, SigintStillWorksAfterExitLoopZero) {
  Daemon d({"--loops", "2", "--log-level", "debug"});
  ASSERT_TRUE(d.ready()) << d.process.output();
  exit_loop_zero(d);
  d.process.signal(SIGINT);
  EXPECT_TRUE(d.process.wait_for_output("Caught an interrupt signal", 5000ms)) << d.process.output();
  auto code = d.process.wait_exit(15000ms);
  ASSERT_TRUE(code.has_value()) << "SIGINT ignored after ExitLoop(0)\n" << d.process.output();
  EXPECT_EQ(*code, 0) << d.process.output();
}

}  // namespace
}  // namespace reactord::test_support
