// BufferEvent graceful close: stop delivering input, flush the output, shutdown(SHUT_WR), then
// close once the peer's EOF arrives — or reset the connection when the deadline passes first.
//
//   close_gracefully ─▶ flushing ──(output empty)──▶ shutdown(SHUT_WR) ──(peer EOF)──▶ closed, clean
//          │                 └──(peer EOF first: keep flushing)──────────────┘
//          ├──(deadline or linger over, output all in the kernel: FIN queued)──▶ close, clean
//          │                                                   (the kernel still delivers it)
//          └──(deadline with output left, write error, reset)──▶ SO_LINGER 0 + close, not clean
//
// The deadline is fixed (close_gracefully: the operator's) or moves with progress
// (close_gracefully_unless_stalled: `stall` after the last byte moved). Only the deadline
// turns a graceful close into an abort; a reader that is slow but reading is never reset by a
// grace period of ours. Once everything is in the kernel and the FIN is queued, waiting for the
// peer's EOF (so that a peer still sending gets no reset) lasts kCloseLinger at most.
//
// While closing, the read event stays armed (to see the EOF) and whatever arrives is discarded;
// no user callback other than `done` runs.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "buffer_event_impl.h"
#include "reactor/sys_calls.h"
#include "socket_ops.h"

namespace reactor {

void BufferEvent::Impl::start_graceful_close(Duration deadline, std::optional<Duration> stall,
                                             std::function<void(bool)> done) {
  if (closed()) {
    if (done) done(false);
    return;
  }
  if ((state & kClosing) != 0) return;  // the first request and its deadline stand
  Extras& x = extras_ref();
  x.close_done = std::move(done);
  x.close_stall = stall;
  x.close_started = base().now();
  x.close_deadline = x.close_started + deadline;
  x.pending_data = {};
  x.pending_what = {};
  if (x.deferred) x.deferred->del();
  state |= kClosing;
  state &= ~kSuspended;
  enabled_off(kRead | kWrite);
  if (fd < 0) {  // never had a socket: nothing to flush, nothing to close
    finish_close(output.empty());
    return;
  }
  if (!x.close_timer) {
    x.close_timer = std::make_unique<Event>(base(), -1, EventFlags{}, &close_timer_cb, &self());
  }
  x.close_timer->add(deadline);
  if (x.read_timer) x.read_timer->del();   // no read timeout: the deadline covers the whole close
  if ((state & kConnecting) != 0) return;  // finish_connect continues from here
  ensure_read_event();
  read_ev().add();
  if ((state & kWriteArmed) != 0) {
    arm_write();  // re-add without the user's write timeout
  } else if (output.empty()) {
    closing_flushed();
  } else {
    write_now();
  }
}

// The deadline (or the end of the linger after our FIN). With a stall bound, while bytes are
// still to be sent, it first checks for progress since it was armed and, if bytes moved,
// re-arms for `stall` after the last of them (one timer, no per-send cost).
void BufferEvent::Impl::on_close_timer() {
  Extras& x = *extras;
  if (x.close_stall && (state & kShutWr) == 0) {
    const TimePoint now = base().now();
    const TimePoint last = std::max({x.close_started, last_read(), last_write()});
    if (now - last < *x.close_stall) {
      x.close_timer->add(std::chrono::ceil<Duration>(last + *x.close_stall - now));
      return;
    }
  }
  // Everything handed to the kernel with the FIN behind it: a normal close lets the kernel
  // finish delivering it; a reset would destroy what the peer has not read yet.
  finish_close((state & kShutWr) != 0);
}

// Reads and discards until the peer's EOF; a reset ends the close early (not clean).
void BufferEvent::Impl::closing_read() {
  char scratch[16 * 1024];
  const ssize_t n = sys().recv(fd, scratch, sizeof(scratch), 0);
  if (n > 0) {
    count_read(static_cast<std::size_t>(n));
    mark_read(base().now());
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n < 0) {
    finish_close(false);
    return;
  }
  state |= kPeerEof;
  disarm_read();
  if ((state & kShutWr) != 0) finish_close(true);
  // Otherwise the peer half-closed first: keep flushing; closing_flushed finishes.
}

// Output fully sent: half-close our side. Done if the peer already said EOF; otherwise linger
// for it — at most kCloseLinger, and never past the deadline.
void BufferEvent::Impl::closing_flushed() {
  if ((state & kShutWr) != 0) return;
  disarm_write();
  state |= kShutWr;
  if (sys().shutdown(fd, SHUT_WR) != 0) {
    finish_close(false);
    return;
  }
  if ((state & kPeerEof) != 0) {
    finish_close(true);
    return;
  }
  Extras& x = *extras;
  const TimePoint now = base().now();
  Duration linger = kCloseLinger;
  if (x.close_stall) {
    linger = std::min(linger, *x.close_stall);
  } else {
    linger = std::min(linger, x.close_deadline > now ? std::chrono::ceil<Duration>(x.close_deadline - now)
                                                     : Duration::zero());
  }
  x.close_timer->add(linger);
}

void BufferEvent::Impl::finish_close(bool clean) {
  if (closed()) return;
  std::function<void(bool)> done;
  if (extras) done = std::move(extras->close_done);
  mark_closed();
  if (fd >= 0) {
    if (clean) {
      // Unread input makes close() send a reset (RFC 2525), which would destroy the data the
      // peer has not read yet: discard it first (a few reads at most: the read event keeps up).
      char scratch[16 * 1024];
      for (int i = 0; i < 64 && sys().recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {}
      sys().close(fd);
    } else {
      output.drain(output.length());
      net::close_with_reset(fd);
    }
  }
  fd = -1;
  if (done) done(clean);
}

// Stops every event (none is destroyed: we may be inside one of their callbacks) and forgets
// queued callbacks. The caller closes the fd.
void BufferEvent::Impl::mark_closed() {
  if ((state & kRateLimited) != 0) drop_rate_limit_on_close();
  disarm_read();
  if (write_ev()) write_ev()->del();
  if (extras) {
    if (extras->deferred) extras->deferred->del();
    if (extras->close_timer) extras->close_timer->del();
    extras->pending_data = {};
    extras->pending_what = {};
  }
  state = static_cast<std::uint16_t>((state & kKeptOnClose) | kSocketClosed);
  enabled_off(kRead | kWrite);
}

}  // namespace reactor
