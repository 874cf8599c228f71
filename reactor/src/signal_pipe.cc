// This base's half of signal handling: a non-blocking self-pipe whose write end the
// process-wide handler (signal_registry.cc) writes signal numbers to, and an internal event
// that reads it on the loop thread and activates the signal events.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "base_core.h"
#include "reactor/sys_calls.h"
#include "signal_registry.h"

namespace reactor::detail {

void BaseCore::open_signal_pipe() {
  int fds[2];
  if (sys().pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  signal_read.reset(fds[0]);
  signal_write.reset(fds[1]);
  signal_event = std::make_unique<Event>(*self, signal_read.get(), kRead | kPersist,
                                         [this](int, EventFlags) { drain_signal_pipe(); });
  signal_event->set_internal(true);
  signal_event->set_label("signal.pipe");
  // Most urgent: signal callbacks should not wait behind a long queue of I/O.
  signal_event->set_priority(0);
}

void BaseCore::close_signal_pipe() {
  signal_event.reset();
  signal_read.reset();
  signal_write.reset();
}

void BaseCore::signal_link(EventCore* ev) {
  const int signo = ev->fd;
  if (!valid_signal_number(signo)) {
    throw std::invalid_argument("reactor: invalid signal number");
  }
  if (!signal_event) open_signal_pipe();
  if (static_cast<std::size_t>(signo) >= sig_heads.size()) sig_heads.resize(signo + 1, nullptr);
  EventCore*& head = sig_heads[signo];
  if (head == nullptr) signal_acquire(signo, this, signal_write.get());  // may throw
  ev->fd_prev = nullptr;
  ev->fd_next = head;
  if (head) head->fd_prev = ev;
  head = ev;
  if (n_signal_events++ == 0) signal_event->add();
}

void BaseCore::signal_unlink(EventCore* ev) {
  const int signo = ev->fd;
  if (ev->fd_prev)
    ev->fd_prev->fd_next = ev->fd_next;
  else
    sig_heads[signo] = ev->fd_next;
  if (ev->fd_next) ev->fd_next->fd_prev = ev->fd_prev;
  ev->fd_prev = ev->fd_next = nullptr;
  if (sig_heads[signo] == nullptr) signal_release(signo, this);  // previous disposition back
  if (--n_signal_events == 0 && signal_event) signal_event->del();
}

void BaseCore::drain_signal_pipe() {
  unsigned char buf[256];
  bool caught[256] = {};
  for (;;) {
    ssize_t n = sys().read(signal_read.get(), buf, sizeof buf);
    // EAGAIN: drained. EINTR, or another error: what is left keeps the pipe readable, the
    // next iteration reads it (an error is counted: LoopStats::signal_pipe_errors).
    if (n < 0 && errno != EAGAIN && errno != EINTR) ++signal_read_errors;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) caught[buf[i]] = true;
  }
  for (std::size_t signo = 1; signo < sig_heads.size(); ++signo) {
    if (!caught[signo]) continue;
    for (EventCore* ev = sig_heads[signo]; ev; ev = ev->fd_next) activate(ev, kSignal);
  }
}

}  // namespace reactor::detail
