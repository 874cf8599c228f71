// The poll(2) backend: a dense pollfd array plus fd → slot index. Always level-triggered:
// kET is ignored (documented in event_base.h). kClosed uses POLLRDHUP.
#include <poll.h>

#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

#include "event_base_impl.h"
#include "poller.h"
#include "reactor/sys_calls.h"

namespace reactor::detail {
namespace {

class PollPoller final : public Poller {
 public:
  void set_interest(int fd, EventFlags interest) override {
    if (fd < 0) return;
    if (static_cast<std::size_t>(fd) >= slot_.size()) slot_.resize(fd + 1, -1);
    int& slot = slot_[fd];
    if (interest == EventFlags{}) {
      if (slot < 0) return;
      // Swap-remove: the last pollfd takes the freed slot.
      int last = static_cast<int>(fds_.size()) - 1;
      if (slot != last) {
        fds_[slot] = fds_[last];
        slot_[fds_[slot].fd] = slot;
      }
      fds_.pop_back();
      slot = -1;
      return;
    }
    short events = 0;
    if (any(interest & kRead)) events |= POLLIN;
    if (any(interest & kWrite)) events |= POLLOUT;
    if (any(interest & kClosed)) events |= POLLRDHUP;
    if (slot < 0) {
      slot = static_cast<int>(fds_.size());
      fds_.push_back(pollfd{fd, events, 0});
    } else {
      fds_[slot].events = events;
    }
  }

  void wait(std::optional<Duration> timeout, std::optional<TimePoint> /*deadline*/) override {
    n_ready_ = 0;
    const int n = sys().poll(fds_.data(), fds_.size(), timeout_to_ms(timeout));
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    n_ready_ = n;
  }

  void activate_ready(EventBaseImpl& base) override {
    int n = std::exchange(n_ready_, 0);
    for (const pollfd& p : fds_) {
      if (n == 0) break;
      if (p.revents == 0) continue;
      --n;
      EventFlags what{};
      if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
        what = kRead | kWrite | kClosed;
      } else {
        if (p.revents & POLLIN) what |= kRead;
        if (p.revents & POLLOUT) what |= kWrite;
        if (p.revents & POLLRDHUP) what |= kClosed;
      }
      base.activate_fd(p.fd, what);
    }
  }

  Backend kind() const override { return Backend::kPoll; }

 private:
  std::vector<pollfd> fds_;
  std::vector<int> slot_;  // per fd: index in fds_, -1 when absent
  int n_ready_ = 0;        // fds_ entries with revents from the last wait, until activate_ready
};

}  // namespace

std::unique_ptr<Poller> make_poll_poller() { return std::make_unique<PollPoller>(); }

}  // namespace reactor::detail
