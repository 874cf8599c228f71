// BufferEvent I/O: the read and write handlers, connect completion, the write-at-once path, and
// running user callbacks (inline, or deferred to a later point of the iteration).
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "buffer_event_impl.h"
#include "buffer_internals.h"
#include "socket_ops.h"

namespace reactor {
namespace {

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

}  // namespace

// ---- Reading ------------------------------------------------------------------------------

void BufferEvent::Impl::on_read(EventFlags fired) {
  if ((state & kClosing) != 0) {
    closing_read();
    return;
  }
  if (any(fired & kTimeout) && !any(fired & kRead)) {
    // libevent: a timeout disables the direction, then tells the user.
    enabled_off(kRead);
    disarm_read();
    report(kBevTimeout | kBevReading, 0);
    return;
  }
  std::size_t max = kReadChunk;
  if (read_high() != 0) {
    if (input.length() >= read_high()) {
      suspend_reading();
      return;
    }
    max = std::min<std::size_t>(max, read_high() - input.length());
  }
  if ((state & kRateLimited) != 0) {
    max = allowance(false, max);
    if (max == 0) return;  // throttled: the read event is off until tokens come back
  }
  // The read lends the thread's spare block to the input (buffer_internals.h): an echo sends
  // it on and frees it in the callback below, and it is the spare again. Whatever the callback
  // left of it in our buffers is compacted when this scope ends (an exception included).
  struct SettleLent {
    Impl& d;
    ~SettleLent() { detail::BufferInternals::settle_lent(d.input, d.output); }
  };
  const ssize_t n = detail::BufferInternals::read_lending(input, fd, max);
  if (n > 0) {
    const SettleLent settle{*this};
    count_read(static_cast<std::size_t>(n));
    mark_read(base().now());
    if ((state & kRateLimited) != 0) charge(false, static_cast<std::size_t>(n));
    if (read_high() != 0 && input.length() >= read_high()) suspend_reading();
    if (input.length() >= read_low()) run_read_cb();
    return;
  }
  const int error = n == 0 ? 0 : errno;
  if (n < 0 && would_block(error)) return;
  enabled_off(kRead);
  disarm_read();
  report((n == 0 ? kBevEof : kBevError) | kBevReading, error);
}

// ---- Writing ------------------------------------------------------------------------------

// Output gained data (or writing was enabled): send what the socket takes now; arm the write
// event only if something remains. On an idle connection this is one sendmsg and no epoll_ctl.
void BufferEvent::Impl::write_now() {
  if (output.empty() || !can_write_now()) return;
  send_now(output);
}

void BufferEvent::Impl::on_write(EventFlags fired) {
  if ((state & kConnecting) != 0) {
    if (any(fired & kTimeout) && !any(fired & kWrite)) {
      disarm_write();
      report(kBevTimeout | kBevWriting, 0);
      return;
    }
    finish_connect();
    return;
  }
  if (any(fired & kTimeout) && !any(fired & kWrite)) {
    enabled_off(kWrite);
    disarm_write();
    report(kBevTimeout | kBevWriting, 0);
    return;
  }
  if (output.empty()) {
    disarm_write();
    if ((state & kClosing) != 0) closing_flushed();
    return;
  }
  const ssize_t n = send_some();
  if (n < 0) {
    const int error = errno;
    if (would_block(error)) return;
    disarm_write();
    if ((state & kClosing) != 0) {
      finish_close(false);
      return;
    }
    enabled_off(kWrite);
    report(kBevError | kBevWriting, error);
    return;
  }
  if (output.empty()) disarm_write();
  if ((state & kClosing) != 0) {
    if (output.empty()) closing_flushed();
    return;
  }
  if (n > 0 && output.length() <= write_low()) run_write_cb();
}

void BufferEvent::Impl::finish_connect() {
  int error = 0;
  if (extras && extras->connect_error != 0) {
    error = extras->connect_error;
    extras->connect_error = 0;
  } else {
    error = net::take_socket_error(fd);
  }
  state &= ~kConnecting;
  disarm_write();
  if (error != 0) {
    if ((state & kClosing) != 0) {
      finish_close(false);
      return;
    }
    report(kBevError, error);
    return;
  }
  if ((state & kClosing) != 0) {
    // close_gracefully was called while connecting: now flush and shut down.
    if (has_read_ev()) read_ev().add();
    if (output.empty()) {
      closing_flushed();
    } else {
      arm_write();
    }
    return;
  }
  arm_read();
  if (!output.empty()) write_now();
  report(kBevConnected, 0);
}

// ---- Callbacks ----------------------------------------------------------------------------

void BufferEvent::Impl::run_write_cb() {
  if ((state & kDeferCallbacks) != 0) {
    queue(kWrite, BevFlags{}, 0);
  } else {
    invoke_write();
  }
}

void BufferEvent::Impl::report(BevFlags what, int error) {
  if ((state & kDeferCallbacks) != 0) {
    queue(EventFlags{}, what, error);
  } else {
    invoke_event(what, error);
  }
}

// Remembers callbacks to run and activates the "bev.deferred" event: they run from
// the base later in this iteration (or the next), never nested in the handler that found them.
void BufferEvent::Impl::queue(EventFlags data, BevFlags what, int error) {
  Extras& x = extras_ref();
  if (any(data & kRead) && !any(callbacks & kBevCbRead)) data &= ~kRead;
  if (any(data & kWrite) && !any(callbacks & kBevCbWrite)) data &= ~kWrite;
  if (!any(data) && !any(what)) return;
  x.pending_data |= data;
  if (any(what)) {
    x.pending_what |= what;
    x.pending_error = error;
  }
  if (!x.deferred) {
    x.deferred = std::make_unique<Event>(base(), -1, EventFlags{}, &deferred_cb, &self());
  }
  x.deferred->activate(kTimeout);
}

void BufferEvent::Impl::on_deferred() {
  Extras& x = *extras;
  const EventFlags data = x.pending_data;
  const BevFlags what = x.pending_what;
  const int error = x.pending_error;
  x.pending_data = {};
  x.pending_what = {};
  x.pending_error = 0;
  // Each callback may close or disable: re-check before the next one. Read data is delivered
  // only if it is still there (the reader may have drained it meanwhile).
  if (any(data & kRead) && user_callbacks_allowed() && input.length() >= read_low() && !input.empty()) {
    invoke_read();
  }
  if (any(data & kWrite) && user_callbacks_allowed()) invoke_write();
  if (any(what) && user_callbacks_allowed()) invoke_event(what, error);
}

void BufferEvent::Impl::invoke_write() {
  if (any(callbacks & kBevCbWrite)) handler->on_write(self());
}

void BufferEvent::Impl::invoke_event(BevFlags what, int error) {
  if (any(callbacks & kBevCbEvent)) handler->on_event(self(), what, error);
}

void FunctionHandler::set(BufferEvent::DataCallback read, BufferEvent::DataCallback write,
                          BufferEvent::EventCallback event) {
  ++generation_;
  read_ = std::move(read);
  write_ = std::move(write);
  event_ = std::move(event);
}

void FunctionHandler::on_read(BufferEvent& bev) { run(read_, bev); }

void FunctionHandler::on_write(BufferEvent& bev) { run(write_, bev); }

void FunctionHandler::on_event(BufferEvent& bev, BevFlags what, int error) { run(event_, bev, what, error); }

}  // namespace reactor
