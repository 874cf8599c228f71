// Faults on the loop's own plumbing, injected through the OsSysCalls seam: post()'s eventfd
// wakeup (the write on the posting thread, the read on the loop thread) and the signal
// self-pipe (pipe2 when the first signal event is added, the handler's write, the loop's
// read). For each: what is queued is not lost, the failure is counted in LoopStats
// (wakeup_errors, signal_pipe_errors), the loop does not spin, and the next call works.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <thread>

#include "fault_harness.h"

namespace reactord::test_support {
namespace {

using namespace std::chrono_literals;
using reactor::FaultRule;

// The fd of the base's internal event labelled `label` ("post.wakeup", "signal.pipe").
int internal_fd(reactor::EventBase& base, const std::string& label) {
  for (const auto& e : base.snapshot()) {
    if (e.label == label) return e.fd;
  }
  return -1;
}

TEST(WakeupFault, AFailedWakeupWriteIsCountedAndTheNextPostWakesTheLoop) {
  reactor::EventBase base;
  const int wakeup = internal_fd(base, "post.wakeup");
  ASSERT_GE(wakeup, 0);
  std::atomic<int> ran{0};
  // The poster starts once the loop runs and has taken everything queued before it (a
  // loopexit, this function): its first post() then finds the queue empty and writes the
  // wakeup. Started earlier, it raced the loop's start (the queue not yet empty: no write).
  std::atomic<bool> looping{false};
  base.post([&] { looping.store(true); });
  // Another thread posts with a fault injector of its own: its first wakeup write fails (EBADF
  // stands for "not EAGAIN"). The loop is blocked in epoll_wait with nothing else to wake it;
  // the second post() must write again (the queue was not empty, but its wakeup failed).
  std::thread poster([&] {
    while (!looping.load()) std::this_thread::yield();
    reactor::FaultInjector faults;
    reactor::ScopedSysCalls installed(faults);
    faults.fail({.calls = reactor::kSysWrite, .error = EBADF, .fd = wakeup});
    base.post([&] { ran.fetch_add(1); });
    EXPECT_EQ(faults.injected(reactor::kSysWrite), 1u);
    base.post([&] {
      ran.fetch_add(1);
      base.loopbreak();
    });
    EXPECT_EQ(faults.calls(reactor::kSysWrite), 2u);
  });
  base.loopexit(60s);  // a guard against a hang, never reached when it works
  base.loop(reactor::kLoopNoExitOnEmpty);
  poster.join();
  EXPECT_TRUE(base.got_break()) << "the loop was not woken by the second post()";
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(base.stats().wakeup_errors, 1u);
}

TEST(WakeupFault, AFailedWakeupWriteIsDrainedByTheLoopsNextIteration) {
  reactor::EventBase base;
  const int wakeup = internal_fd(base, "post.wakeup");
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  faults.fail({.calls = reactor::kSysWrite, .error = EIO, .fd = wakeup});
  bool ran = false;
  base.post([&] { ran = true; });
  EXPECT_EQ(faults.injected(), 1u);
  // Nothing else is posted; a timer wakes the loop: the queue runs at that iteration.
  reactor::Event tick(base, -1, reactor::EventFlags{}, [](int, reactor::EventFlags) {});
  tick.add(10ms);
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return ran; }));
  EXPECT_EQ(base.stats().wakeup_errors, 1u);
}

TEST(WakeupFault, EagainOnAFullEventfdIsHarmless) {
  reactor::EventBase base;
  const int wakeup = internal_fd(base, "post.wakeup");
  ASSERT_GE(wakeup, 0);
  // A real full counter (the largest value an eventfd holds): the next write gets EAGAIN from
  // the kernel, and the eventfd is readable, so the loop wakes all the same.
  const std::uint64_t full = 0xfffffffffffffffeull;
  ASSERT_EQ(::write(wakeup, &full, sizeof full), static_cast<ssize_t>(sizeof full));
  reactor::FaultInjector counting;  // injects nothing: counts the calls
  bool ran = false;
  {
    reactor::ScopedSysCalls installed(counting);
    base.post([&] { ran = true; });
  }
  EXPECT_EQ(counting.calls(reactor::kSysWrite), 1u);
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return ran; }));
  EXPECT_EQ(base.stats().wakeup_errors, 0u);
  // The read reset the counter: the next post wakes the loop as usual.
  bool again = false;
  base.post([&] { again = true; });
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return again; }));
  EXPECT_EQ(base.stats().wakeup_errors, 0u);
}

TEST(WakeupFault, AFailedWakeupReadIsCountedAndTheQueueStillRuns) {
  reactor::EventBase base;
  const int wakeup = internal_fd(base, "post.wakeup");
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  faults.fail({.calls = reactor::kSysRead, .error = EIO, .fd = wakeup});
  bool ran = false;
  base.post([&] { ran = true; });
  const std::uint64_t before = base.stats().iterations;
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return ran; }));
  EXPECT_EQ(base.stats().wakeup_errors, 1u);
  // The eventfd stayed readable after the failed read: the next iteration reads it, and the
  // loop then blocks again (no spin).
  bool later = false;
  base.post([&] { later = true; });
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return later; }));
  EXPECT_LT(base.stats().iterations - before, 20u) << "the loop spun";
  EXPECT_EQ(base.stats().wakeup_errors, 1u);
}

TEST(SignalPipeFault, Pipe2FailureThrowsWithTheErrnoAndTheNextAddWorks) {
  reactor::EventBase base;
  int caught = 0;
  reactor::Event sig(base, SIGUSR2, reactor::kSignal | reactor::kPersist,
                     [&](int, reactor::EventFlags) { ++caught; });
  {
    reactor::FaultInjector faults;
    reactor::ScopedSysCalls installed(faults);
    faults.fail({.calls = reactor::kSysPipe2, .error = EMFILE});
    try {
      sig.add();
      ADD_FAILURE() << "add() did not throw";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), EMFILE);
    }
    EXPECT_EQ(faults.injected(reactor::kSysPipe2), 1u);
  }
  EXPECT_EQ(sig.pending(reactor::kSignal), reactor::EventFlags{});
  sig.add();
  ASSERT_EQ(::raise(SIGUSR2), 0);
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return caught == 1; }));
  sig.del();
}

TEST(SignalPipeFault, AFailedHandlerWriteIsCountedAndTheNextSignalIsDelivered) {
  reactor::EventBase base;
  int caught = 0;
  reactor::Event sig(base, SIGUSR2, reactor::kSignal | reactor::kPersist,
                     [&](int, reactor::EventFlags) { ++caught; });
  sig.add();
  {
    // raise() runs the handler on this thread, where the injector is installed.
    reactor::FaultInjector faults;
    reactor::ScopedSysCalls installed(faults);
    faults.fail({.calls = reactor::kSysWrite, .error = EBADF});
    ASSERT_EQ(::raise(SIGUSR2), 0);
    EXPECT_EQ(faults.injected(reactor::kSysWrite), 1u);
  }
  EXPECT_EQ(base.stats().signal_pipe_errors, 1u);
  base.loop(reactor::kLoopNonblock);
  EXPECT_EQ(caught, 0);  // that one was lost, and counted
  ASSERT_EQ(::raise(SIGUSR2), 0);
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return caught == 1; }));
  EXPECT_EQ(base.stats().signal_pipe_errors, 1u);
  sig.del();
}

TEST(SignalPipeFault, AFailedPipeReadIsCountedAndTheSignalArrivesAtTheNextIteration) {
  reactor::EventBase base;
  int caught = 0;
  reactor::Event sig(base, SIGUSR2, reactor::kSignal | reactor::kPersist,
                     [&](int, reactor::EventFlags) { ++caught; });
  sig.add();
  const int pipe_read = internal_fd(base, "signal.pipe");
  ASSERT_GE(pipe_read, 0);
  reactor::FaultInjector faults;
  reactor::ScopedSysCalls installed(faults);
  faults.fail({.calls = reactor::kSysRead, .error = EIO, .fd = pipe_read});
  ASSERT_EQ(::raise(SIGUSR2), 0);
  const std::uint64_t before = base.stats().iterations;
  EXPECT_TRUE(reactord::test_support::run_until(base, [&] { return caught == 1; }));
  EXPECT_EQ(faults.injected(reactor::kSysRead), 1u);
  EXPECT_EQ(base.stats().signal_pipe_errors, 1u);
  EXPECT_LT(base.stats().iterations - before, 20u) << "the loop spun";
  sig.del();
}

}  // namespace
}  // namespace reactord::test_support
