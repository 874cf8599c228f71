// SignalPipe (signal_pipe.h): the pipe, the signo → events table and the pipe event's callback.
#include "signal_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "reactor/event_base.h"
#include "reactor/sys_calls.h"
#include "event_list.h"
#include "signal_registry.h"

namespace reactor::detail {

void SignalPipe::open() {
  int fds[2];
  if (sys().pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  read_.reset(fds[0]);
  write_.reset(fds[1]);
  event_ =
      std::make_unique<Event>(base_, read_.get(), kRead | kPersist, [this](int, EventFlags) { drain(); });
  event_->set_internal(true);
  event_->set_label("signal.pipe");
  // Most urgent: signal callbacks should not wait behind a long queue of I/O.
  event_->set_priority(0);
}

void SignalPipe::close() {
  event_.reset();
  read_.reset();
  write_.reset();
}

void SignalPipe::link(EventCore* ev) {
  const int signo = ev->fd;
  if (!valid_signal_number(signo)) {
    throw std::invalid_argument("reactor: invalid signal number");
  }
  if (!event_) open();
  if (static_cast<std::size_t>(signo) >= heads_.size()) heads_.resize(signo + 1, nullptr);
  EventCore*& head = heads_[signo];
  if (head == nullptr) signal_acquire(signo, this, write_.get());  // may throw
  link_front(head, ev);
  if (n_events_++ == 0) event_->add();
}

void SignalPipe::unlink(EventCore* ev) {
  const int signo = ev->fd;
  unlink_from(heads_[signo], ev);
  if (heads_[signo] == nullptr) signal_release(signo, this);  // previous disposition back
  if (--n_events_ == 0 && event_) event_->del();
}

void SignalPipe::reopen_after_fork() {
  if (!event_) return;
  close();
  open();
  signal_retarget(this, write_.get());
  if (n_events_ > 0) event_->add();
}

void SignalPipe::forget_events() { std::fill(heads_.begin(), heads_.end(), nullptr); }

std::uint64_t SignalPipe::errors() const { return read_errors_ + signal_write_errors(this); }

void SignalPipe::drain() {
  unsigned char buf[256];
  bool caught[256] = {};
  for (;;) {
    ssize_t n = sys().read(read_.get(), buf, sizeof buf);
    // EAGAIN: drained. EINTR, or another error: what is left keeps the pipe readable, the
    // next iteration reads it (an error is counted: LoopStats::signal_pipe_errors).
    if (n < 0 && errno != EAGAIN && errno != EINTR) ++read_errors_;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) caught[buf[i]] = true;
  }
  for (std::size_t signo = 1; signo < heads_.size(); ++signo) {
    if (!caught[signo]) continue;
    for (EventCore* ev = heads_[signo]; ev; ev = ev->fd_next) activate_(ev);
  }
}

}  // namespace reactor::detail
