// Poller: the readiness backend (epoll or poll) behind an EventBase.
//
// It knows fds and interest masks only. The base maps fd → events and owns them; the poller
// owns no Event and no fd (only its own epoll fd). Interest bits are the public kRead,
// kWrite, kClosed and kET; results use kRead, kWrite and kClosed.
#pragma once

#include <memory>
#include <optional>

#include "reactor/clock.h"
#include "reactor/event_base.h"
#include "reactor/event_flags.h"

namespace reactor::detail {

struct EventBaseImpl;

class Poller {
 public:
  virtual ~Poller() = default;
  // Makes `interest` the fd's interest set; 0 removes the fd. Throws std::system_error when
  // the kernel refuses the fd (EBADF, EPERM for regular files, ...). Removing an fd that
  // was already closed is not an error.
  virtual void set_interest(int fd, EventFlags interest) = 0;
  // Waits up to `timeout` (nullopt = forever); the fds found ready stay in the backend's own
  // result array until activate_ready(). EINTR returns with nothing ready. `deadline`, when
  // given, is the instant on CLOCK_MONOTONIC that `timeout` counts down to (a timer's): a
  // backend may wait for it by other means than the timeout (epoll: a timerfd, kept armed from
  // wait to wait). It may then also return early with nothing ready (a deadline that has moved
  // later since).
  virtual void wait(std::optional<Duration> timeout, std::optional<TimePoint> deadline) = 0;
  // Activates the events of every fd the last wait() found ready (base.activate_fd), read
  // straight from the kernel's answer (epoll_event / pollfd array), then forgets them. One pass
  // per ready fd (issue #19): the backends used to copy the answer into a vector of (fd, what)
  // that the base then walked again (the copy, the second loop and its clear: ~14 instructions
  // per ready fd at 50 busy connections, callgrind). Apart from wait() so that the loop reads
  // its clock between the two, as it did between the poll and the dispatch: poll_wait and the
  // callback timings measure what they measured.
  virtual void activate_ready(EventBaseImpl& base) = 0;
  virtual Backend kind() const = 0;
};

std::unique_ptr<Poller> make_epoll_poller();
std::unique_ptr<Poller> make_poll_poller();
std::unique_ptr<Poller> make_poller(Backend backend);

// Milliseconds for epoll_wait/poll, rounded up so that a timer is never woken early.
int timeout_to_ms(std::optional<Duration> timeout);

}  // namespace reactor::detail
