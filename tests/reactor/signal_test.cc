// Signals: delivered through the self-pipe to the loop thread, whatever thread the handler
// ran on; one owning base per signal number; the previous disposition restored.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class Signals : public ReactorTest {};

std::atomic<int> g_previous_handler_calls{0};
void PreviousHandler(int) { g_previous_handler_calls.fetch_add(1); }

TEST_P(Signals, CallbackRunsOnTheLoopThread) {
  int calls = 0;
  std::thread::id ran_on;
  auto ev = Event::signal(base_, SIGUSR1, [&](int signo, EventFlags what) {
    EXPECT_EQ(signo, SIGUSR1);
    EXPECT_EQ(what, kSignal);
    ran_on = std::this_thread::get_id();
    ++calls;
  });
  EXPECT_EQ(ev->kind(), EventKind::kSignal);
  ev->add();
  ASSERT_EQ(::raise(SIGUSR1), 0);
  ASSERT_TRUE(run_until(base_, [&] { return calls == 1; }));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  // Persistent: a second signal runs it again.
  ASSERT_EQ(::raise(SIGUSR1), 0);
  ASSERT_TRUE(run_until(base_, [&] { return calls == 2; }));
  ev->del();
}

TEST_P(Signals, HandlerOnAnotherThreadWakesTheLoop) {
  int calls = 0;
  auto ev = Event::signal(base_, SIGUSR2, [&](int, EventFlags) { ++calls; });
  ev->add();
  // The handler runs on the raising thread while the loop thread sits in epoll_wait/poll.
  std::thread other([] {
    for (int i = 0; i < 3; ++i) ::raise(SIGUSR2);
  });
  bool done = run_until(base_, [&] { return calls >= 1; });
  other.join();
  EXPECT_TRUE(done);
  base_.loop(kLoopNonblock);  // drains whatever is left in the pipe
  EXPECT_GE(calls, 1);
  EXPECT_LE(calls, 3);
  ev->del();
}

TEST_P(Signals, SeveralEventsForOneSignalAllFireAndNonPersistOnlyOnce) {
  int a = 0, b = 0;
  Event once(base_, SIGUSR1, kSignal, [&](int, EventFlags) { ++a; });
  auto persist = Event::signal(base_, SIGUSR1, [&](int, EventFlags) { ++b; });
  once.add();
  persist->add();
  ::raise(SIGUSR1);
  ASSERT_TRUE(run_until(base_, [&] { return a == 1 && b == 1; }));
  EXPECT_EQ(once.state(), EventState::kInitialized);
  ::raise(SIGUSR1);
  ASSERT_TRUE(run_until(base_, [&] { return b == 2; }));
  EXPECT_EQ(a, 1);
  persist->del();
}

TEST_P(Signals, OneOwnerBaseAtATime) {
  EventBase other(EventBaseConfig{GetParam(), 1});
  auto mine = Event::signal(base_, SIGUSR1, [](int, EventFlags) {});
  auto theirs = Event::signal(other, SIGUSR1, [](int, EventFlags) {});
  mine->add();
  EXPECT_THROW(theirs->add(), std::logic_error);
  EXPECT_EQ(theirs->state(), EventState::kInitialized);
  // Other signals are free on the other base, and once released SIGUSR1 is too.
  auto usr2 = Event::signal(other, SIGUSR2, [](int, EventFlags) {});
  usr2->add();
  mine->del();
  theirs->add();
  theirs->del();
  usr2->del();
}

TEST_P(Signals, PreviousDispositionIsRestoredWhenTheLastEventGoes) {
  struct sigaction custom {
  }, saved{}, now{};
  custom.sa_handler = PreviousHandler;
  sigemptyset(&custom.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &custom, &saved), 0);
  {
    auto a = Event::signal(base_, SIGUSR1, [](int, EventFlags) {});
    auto b = Event::signal(base_, SIGUSR1, [](int, EventFlags) {});
    a->add();
    b->add();
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &now), 0);
    EXPECT_NE(now.sa_handler, PreviousHandler);
    a->del();
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &now), 0);
    EXPECT_NE(now.sa_handler, PreviousHandler) << "b still needs it";
    b->del();
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, PreviousHandler);
  }
  int before = g_previous_handler_calls.load();
  ::raise(SIGUSR1);
  EXPECT_EQ(g_previous_handler_calls.load(), before + 1);
  ::sigaction(SIGUSR1, &saved, nullptr);
}

TEST_P(Signals, DestroyingTheBaseReleasesItsSignals) {
  auto theirs_cb = [](int, EventFlags) {};
  std::unique_ptr<Event> detached;
  {
    EventBase other(EventBaseConfig{GetParam(), 1});
    detached = Event::signal(other, SIGUSR2, theirs_cb);
    detached->add();
  }
  EXPECT_EQ(detached->state(), EventState::kInitialized);
  auto mine = Event::signal(base_, SIGUSR2, theirs_cb);
  EXPECT_NO_THROW(mine->add());
  mine->del();
  detached.reset();  // a detached event is still safe to destroy
}

REACTORD_BACKEND_SUITE(Signals);

}  // namespace
}  // namespace reactord::test_support
