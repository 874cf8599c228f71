// reinit() after a real fork(): the child gets its own backend, eventfd and signal pipe, and
// every pending event is registered again; the parent's base is untouched.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class Fork : public ReactorTest {};

// Waits for pid at most `limit`, killing it if it hangs. Returns the exit code, or -1.
int WaitBounded(pid_t pid, Duration limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 || Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    ::usleep(2000);  // polling a child process: there is no fd to wait on
  }
}

TEST_P(Fork, ChildReinitsAndRunsItsLoop) {
  SocketPair child_pair, parent_pair;
  int parent_reads = 0;
  int child_step = 0;  // in the child: 1 = read fired, 2 = post ran, 3 = signal ran
  Event child_read(base_, child_pair.a.get(), kRead, [&](int fd, EventFlags what) {
    if (what == kRead && ReadAll(fd) == 1) child_step = 1;
  });
  Event parent_read(base_, parent_pair.a.get(), kRead | kPersist,
                    [&](int fd, EventFlags) { parent_reads += ReadAll(fd); });
  auto sig = Event::signal(base_, SIGUSR1, [&](int, EventFlags) {
    if (child_step == 2) child_step = 3;
  });
  child_read.add();
  parent_read.add();
  sig->add();

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: no gtest assertions here, only an exit code.
    base_.reinit();
    Event watchdog(base_, -1, EventFlags{}, [](int, EventFlags) { ::_exit(13); });
    watchdog.add(Duration(3s));
    parent_read.del();  // must not touch the parent's epoll set
    WriteByte(child_pair.b.get());
    for (int i = 0; i < 50 && child_step == 0; ++i) base_.loop(kLoopOnce);
    if (child_step != 1) ::_exit(10);
    base_.post([&] { child_step = 2; });
    for (int i = 0; i < 50 && child_step == 1; ++i) base_.loop(kLoopOnce);
    if (child_step != 2) ::_exit(11);
    ::raise(SIGUSR1);
    for (int i = 0; i < 50 && child_step == 2; ++i) base_.loop(kLoopOnce);
    if (child_step != 3) ::_exit(12);
    ::_exit(0);
  }
  EXPECT_EQ(WaitBounded(pid, 10s), 0) << "10: read, 11: post, 12: signal failed in the child; 13: it hung";
  // The parent's registrations survived the child's reinit() and del().
  WriteByte(parent_pair.b.get());
  ASSERT_TRUE(run_until(base_, [&] { return parent_reads == 1; }));
  child_read.del();
  parent_read.del();
  sig->del();
}

REACTORD_BACKEND_SUITE(Fork);

}  // namespace
}  // namespace reactord::test_support
