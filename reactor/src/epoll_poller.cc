// The epoll backend: one epoll fd, level-triggered unless an event asks for kET.
//
// Long timer waits go through a timerfd (issue #19). epoll_wait with a timeout arms a kernel
// hrtimer each time it sleeps and cancels it when woken: at one message per wakeup (1 × 1 × 64
// echo) that is one hrtimer start and cancel per message that raw epoll, blocking with no
// timeout, does not pay (perf: timer:hrtimer_start 1.02 per message against 0.02). reactord
// always has a timer (the idle sweep, minutes away), so its loop never blocked without one.
// A deadline at least kTimerFdFrom away is instead armed on a timerfd in the epoll set and left
// armed from wait to wait while it stays the same; epoll_wait then blocks with no timeout. A
// deadline that moves earlier re-arms it (one timerfd_settime); one that moves later leaves it
// armed for the old instant, which wakes the loop once early (it finds nothing to run and
// arms for the new deadline): as the idle sweep does with its own timer.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

#include "event_base_impl.h"
#include "poller.h"
#include "reactor/sys_calls.h"
#include "reactor/unique_fd.h"

namespace reactor::detail {
namespace {

std::uint32_t to_epoll(EventFlags interest) {
  std::uint32_t ev = 0;
  if (any(interest & kRead)) ev |= EPOLLIN;
  if (any(interest & kWrite)) ev |= EPOLLOUT;
  if (any(interest & kClosed)) ev |= EPOLLRDHUP;
  if (any(interest & kET)) ev |= EPOLLET;
  return ev;
}

EventFlags from_epoll(std::uint32_t ev) {
  // A hang-up or an error wakes every kind of interest (as libevent does): the callback's
  // read or write then sees the error.
  if (ev & (EPOLLHUP | EPOLLERR)) return kRead | kWrite | kClosed;
  EventFlags what{};
  if (ev & EPOLLIN) what |= kRead;
  if (ev & EPOLLOUT) what |= kWrite;
  if (ev & EPOLLRDHUP) what |= kClosed;
  return what;
}

class EpollPoller final : public Poller {
 public:
  EpollPoller() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epfd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    events_.resize(64);
    capacity_ = static_cast<int>(events_.size());
    open_timer();
  }

  void set_interest(int fd, EventFlags interest) override {
    if (fd < 0) return;
    if (static_cast<std::size_t>(fd) >= registered_.size()) registered_.resize(fd + 1, 0);
    std::uint32_t& current = registered_[fd];
    if (interest == EventFlags{}) {
      if (current == 0) return;
      current = 0;
      // EBADF/ENOENT: the fd was closed before its events were deleted; the kernel already
      // dropped it from the epoll set.
      sys().epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
      return;
    }
    epoll_event ev{};
    ev.events = to_epoll(interest);
    ev.data.fd = fd;
    int op = current == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    int rc = sys().epoll_ctl(epfd_.get(), op, fd, &ev);
    // We may believe the fd is registered when it was closed and its number reused (MOD →
    // ENOENT), or not registered when it is (ADD → EEXIST, after a dup): retry the other op.
    if (rc < 0 && op == EPOLL_CTL_MOD && errno == ENOENT) {
      rc = sys().epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev);
    } else if (rc < 0 && op == EPOLL_CTL_ADD && errno == EEXIST) {
      rc = sys().epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev);
    }
    if (rc < 0) {
      int err = errno;
      current = 0;
      throw std::system_error(err, std::generic_category(), "epoll_ctl");
    }
    current = static_cast<std::uint32_t>(interest) | 0x8000u;  // non-zero even for kET only
  }

  void wait(std::optional<Duration> timeout, std::optional<TimePoint> deadline) override {
    n_ready_ = 0;
    int ms = timeout_to_ms(timeout);
    if (deadline && ms >= kTimerFdFrom.count() && arm_timer(*deadline)) ms = -1;
    const int n = sys().epoll_wait(epfd_.get(), events_.data(), capacity_, ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    n_ready_ = n;
  }

  void activate_ready(EventBaseImpl& base) override {
    const int n = std::exchange(n_ready_, 0);
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[i];
      if (ev.data.fd == timer_fd_.get()) [[unlikely]] {
        timer_expired();
        continue;
      }
      base.activate_fd(ev.data.fd, from_epoll(ev.events));
    }
    // A full batch suggests more were ready: grow so the next wait catches them all (after
    // the walk: growing moves the array).
    if (n == capacity_ && capacity_ < 4096) {
      events_.resize(events_.size() * 2);
      capacity_ = static_cast<int>(events_.size());
    }
  }

  Backend kind() const override { return Backend::kEpoll; }

 private:
  // Waits shorter than this keep epoll_wait's timeout: a timer that fires every few
  // milliseconds would cost a timerfd_settime and a read per expiry instead.
  static constexpr std::chrono::milliseconds kTimerFdFrom{50};

  // Makes the timerfd wake the next wait at `deadline` or before. False when there is no
  // timerfd (it could not be made: the wait keeps its timeout).
  bool arm_timer(TimePoint deadline) {
    if (timer_armed_ && armed_for_ <= deadline) return true;  // early at most: see the top
    if (!timer_fd_) return false;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    if (ns <= 0 || ::timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) return false;
    timer_armed_ = true;
    armed_for_ = deadline;
    return true;
  }

  // The timerfd, in the epoll set, made with the poller (as libevent's epoll backend makes its
  // own): a base holds the same fds from its start, so a process at rest after load holds
  // what it held at rest before (the soak test's check). If it cannot be made (EMFILE...),
  // the waits keep their timeouts.
  void open_timer() {
    UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd.get();
    if (fd && sys().epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd.get(), &ev) == 0) timer_fd_ = std::move(fd);
  }

  // The timerfd fired: read its count (it stays readable until then) and forget the instant.
  void timer_expired() {
    std::uint64_t expirations = 0;
    static_cast<void>(::read(timer_fd_.get(), &expirations, sizeof expirations));
    timer_armed_ = false;
  }

  UniqueFd epfd_;
  UniqueFd timer_fd_;  // -1 if it could not be made
  TimePoint armed_for_{};
  bool timer_armed_ = false;
  std::vector<epoll_event> events_;
  int n_ready_ = 0;  // events_[0, n_ready_): the last wait's answer, until activate_ready
  // events_.size() as epoll_wait takes it: the size is a division by sizeof(epoll_event) (12),
  // once per iteration (issue #19).
  int capacity_ = 0;
  std::vector<std::uint32_t> registered_;  // per fd: 0 = not in the epoll set
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

int timeout_to_ms(std::optional<Duration> timeout) {
  if (!timeout) return -1;
  if (timeout->count() <= 0) return 0;
  auto ms = (timeout->count() + 999) / 1000;
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

std::unique_ptr<Poller> make_poller(Backend backend) {
  return backend == Backend::kPoll ? make_poll_poller() : make_epoll_poller();
}

}  // namespace reactor::detail
