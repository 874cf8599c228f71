// How the loop waits for a timer 50 ms or more away: on epoll through a timerfd left armed
// from wait to wait (epoll_poller.cc, issue #19), on poll through the poll timeout. Either
// way a timer fires at its deadline, never before, also when it was moved later or earlier
// while the loop was waiting for it.
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

// The timerfds this process holds, and how many of them are armed (/proc/self/fdinfo's
// it_value is not zero).
struct TimerFds {
  int total = 0;
  int armed = 0;
};

TimerFds timerfds() {
  TimerFds out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    char target[128] = {};
    const std::string link = "/proc/self/fd/" + name;
    if (::readlink(link.c_str(), target, sizeof target - 1) <= 0) continue;
    if (std::string(target) != "anon_inode:[timerfd]") continue;
    ++out.total;
    std::ifstream info("/proc/self/fdinfo/" + name);
    for (std::string line; std::getline(info, line);) {
      long sec = 0;
      long nsec = 0;
      if (std::sscanf(line.c_str(), "it_value: (%ld, %ld)", &sec, &nsec) == 2 && (sec != 0 || nsec != 0)) {
        ++out.armed;
      }
    }
  }
  ::closedir(dir);
  return out;
}

class TimerWait : public ReactorTest {
 protected:
  // A readable socket wakes the loop at once: its callback runs while the loop is waiting for
  // the timer, after the wait for it began.
  void wake_loop_with(const std::function<void()>& on_wake) {
    io_ = std::make_unique<Event>(base_, pair_.a.get(), kRead, [this, on_wake](int, EventFlags) {
      ReadAll(pair_.a.get());
      on_wake();
    });
    io_->add();
    WriteByte(pair_.b.get());
  }

  // A timer added for `first` and moved to `then` by a callback while the loop waits for it;
  // runs the loop until it fires. Returns the time from the move to the timer's callback
  // (Duration::max() if it never ran).
  Duration run_moved_timer(Duration first, Duration then) {
    bool fired = false;
    TimePoint fired_at{};
    TimePoint moved_at{};
    auto timer = Event::timer(base_, [&](int, EventFlags) {
      fired = true;
      fired_at = Clock::now();
    });
    timer->add(first);
    wake_loop_with([&] {
      moved_at = base_.now();  // the time add() counts from (the iteration's cached time)
      timer->add(then);
    });
    EXPECT_TRUE(run_until(base_, [&] { return fired; }));
    if (!fired) {
      timer->del();
      return Duration::max();
    }
    return std::chrono::duration_cast<Duration>(fired_at - moved_at);
  }

  SocketPair pair_;
  std::unique_ptr<Event> io_;
};

TEST_P(TimerWait, ALongWaitIsATimerfdOnEpollAndTheTimerFiresAtItsDeadline) {
  bool fired = false;
  TimePoint fired_at{};
  auto timer = Event::timer(base_, [&](int, EventFlags) {
    fired = true;
    fired_at = Clock::now();
  });
  const TimePoint start = Clock::now();
  timer->add(Duration(80ms));
  TimerFds during;
  wake_loop_with([&] { during = timerfds(); });
  ASSERT_TRUE(run_until(base_, [&] { return fired; }));
  EXPECT_GE(fired_at - start, 80ms);
  if (GetParam() == Backend::kEpoll) {
    EXPECT_EQ(during.total, 1);
    EXPECT_EQ(during.armed, 1);  // armed for the timer while the loop waited
  } else {
    EXPECT_EQ(during.total, 0);
  }
}

TEST_P(TimerWait, ATimerMovedLaterDoesNotFireAtItsOldDeadline) {
  // The timerfd stays armed for 60 ms and wakes the loop there once: the timer, moved to
  // 250 ms meanwhile, must not run then.
  EXPECT_GE(run_moved_timer(Duration(60ms), Duration(250ms)), 250ms);
}

TEST_P(TimerWait, ATimerMovedEarlierFiresAtItsNewDeadline) {
  // Armed for the hour (the run_until guard's 5 s, in fact), the wait must be re-armed for
  // 80 ms: otherwise the guard ends the run with the timer not fired.
  EXPECT_GE(run_moved_timer(Duration(1h), Duration(80ms)), 80ms);
}

TEST_P(TimerWait, TheTimerfdIsMadeWithItsBaseAndClosesWithIt) {
  // Made with the base, not at its first long wait: a process at rest after load holds the
  // fds it held at rest before (the soak test's check).
  const int before = timerfds().total;  // the fixture's base_ holds one on epoll
  {
    EventBase base(EventBaseConfig{GetParam(), 1});
    EXPECT_EQ(timerfds().total, before + (GetParam() == Backend::kEpoll ? 1 : 0));
    EXPECT_EQ(timerfds().armed, 0);
    SocketPair pair;
    bool woke = false;
    Event io(base, pair.a.get(), kRead, [&](int, EventFlags) { woke = ReadAll(pair.a.get()) > 0; });
    io.add();
    auto timer = Event::timer(base, [](int, EventFlags) {});
    timer->add(Duration(1h));
    WriteByte(pair.b.get());
    base.loop(kLoopOnce);
    EXPECT_TRUE(woke);
    EXPECT_EQ(timerfds().total, before + (GetParam() == Backend::kEpoll ? 1 : 0));
    timer->del();
  }
  EXPECT_EQ(timerfds().total, before);
}

REACTORD_BACKEND_SUITE(TimerWait);

}  // namespace
}  // namespace reactord::test_support
