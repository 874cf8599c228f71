// The epoll backend: one epoll fd, level-triggered unless an event asks for kET.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

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

  void wait(std::optional<Duration> timeout, std::vector<Ready>& out) override {
    int n = sys().epoll_wait(epfd_.get(), events_.data(), static_cast<int>(events_.size()),
                             timeout_to_ms(timeout));
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      out.push_back(Ready{events_[i].data.fd, from_epoll(events_[i].events)});
    }
    // A full batch suggests more were ready: grow so the next wait catches them all.
    if (n == static_cast<int>(events_.size()) && events_.size() < 4096) {
      events_.resize(events_.size() * 2);
    }
  }

  Backend kind() const override { return Backend::kEpoll; }

 private:
  UniqueFd epfd_;
  std::vector<epoll_event> events_;
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
