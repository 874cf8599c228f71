// BufferEvent public API: construction, callbacks, interest, watermarks, timeouts, counters.
// The I/O paths are in buffer_event_io.cc, closing in buffer_event_close.cc.
#include "reactor/buffer_event.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

#include "buffer_event_front_impl.h"
#include "buffer_event_impl.h"
#include "rate_limit_impl.h"
#include "socket_ops.h"
#include "reactor/sys_calls.h"

namespace reactor {
namespace {

std::uint32_t clamp32(std::size_t v) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(v, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

// ---- Impl: construction and interest ------------------------------------------------------

// The events' callbacks: a function pointer and the BufferEvent (16 bytes per event, no
// std::function), and one owner per BufferEvent that inspection reads through describe().
void BufferEvent::Impl::read_cb(int, EventFlags fired, void* arg) {
  Impl& d = *static_cast<BufferEvent*>(arg)->impl_;
  if (d.extras && d.extras->read_timer && d.extras->read_timeout &&
      any(d.extras->read_timer->pending(kTimeout))) {
    // Readiness restarts the read timeout; del first, so that a timeout that expired in this
    // same iteration does not run after the read (a kPersist event's single activation).
    d.extras->read_timer->del();
    d.extras->read_timer->add(*d.extras->read_timeout);
  }
  d.on_read(fired);
}
void BufferEvent::Impl::read_timeout_cb(int, EventFlags, void* arg) {
  static_cast<BufferEvent*>(arg)->impl_->on_read(kTimeout);
}
void BufferEvent::Impl::write_cb(int, EventFlags fired, void* arg) {
  static_cast<BufferEvent*>(arg)->impl_->on_write(fired);
}
void BufferEvent::Impl::deferred_cb(int, EventFlags, void* arg) {
  static_cast<BufferEvent*>(arg)->impl_->on_deferred();
}
void BufferEvent::Impl::close_timer_cb(int, EventFlags, void* arg) {
  static_cast<BufferEvent*>(arg)->impl_->on_close_timer();
}
void BufferEvent::Impl::refill_cb(int, EventFlags, void* arg) {
  static_cast<BufferEvent*>(arg)->impl_->on_refill();
}

detail::EventTag BufferEvent::Impl::describe(EventFunction fn, const void* arg) {
  const Impl* impl = static_cast<const BufferEvent*>(arg)->impl_.get();
  const char* label = fn == &read_cb           ? "bev.read"
                      : fn == &read_timeout_cb ? "bev.read_timeout"
                      : fn == &write_cb        ? "bev.write"
                      : fn == &deferred_cb     ? "bev.deferred"
                      : fn == &refill_cb       ? "bev.refill"
                                               : "bev.close";
  return detail::EventTag{impl->owner, label};
}

BufferEvent::Impl::Impl(BufferEvent& s, EventBase& b, int socket_fd, BevOptions opts) : fd(socket_fd) {
  if ((opts & kBevOptCloseOnFree) != 0) state |= kCloseOnFree;
  if ((opts & kBevOptDeferCallbacks) != 0) state |= kDeferCallbacks;
  static const bool described = [] {
    for (EventFunction fn :
         {&read_cb, &read_timeout_cb, &write_cb, &deferred_cb, &close_timer_cb, &refill_cb}) {
      detail::register_describer(fn, &describe);
    }
    return true;
  }();
  (void)described;
  created = b.now();
  if (fd >= 0) {
    net::set_nonblocking(fd);
    new (read_storage) detail::IoEvent(b, fd, kRead | kPersist, &read_cb, &s);
    state |= kReadEv;
  } else {
    extras_ref().base = &b;  // until connect() makes the socket and its read event
    extras->self = &s;
  }
}

void BufferEvent::Impl::carry_into_extras(std::uint32_t carry, bool written) {
  (written ? extras_ref().bytes_written_high : extras_ref().bytes_read_high) += carry;
}

BufferEvent::Impl::~Impl() {
  // Leave a rate-limit group first (it points at us), then unregister before the fd goes away.
  if (extras && extras->rate_limit) drop_rate_limit_on_close();
  destroy_read_ev();
  extras.reset();
  if ((state & kHandlerIsFunctions) != 0) delete static_cast<FunctionHandler*>(handler);
  if (fd >= 0 && (state & (kCloseOnFree | kOwnFd)) != 0) sys().close(fd);
}

void BufferEvent::Impl::destroy_read_ev() {
  if (!has_read_ev()) return;
  read_ev().~IoEvent();
  state &= static_cast<std::uint16_t>(~kReadEv);
}

BufferEvent::Impl::Extras& BufferEvent::Impl::extras_ref() {
  if (!extras) extras = std::make_unique<Extras>();
  return *extras;
}

// Not marked internal: these events run user code (callbacks, `done`), so they count as user
// work for the loop (kLoopOnce, liveness, stats) like the read and write events.
void BufferEvent::Impl::ensure_read_event() {
  if (has_read_ev() || fd < 0) return;
  new (read_storage) detail::IoEvent(base(), fd, kRead | kPersist, &read_cb, &self());
  state |= kReadEv;
}

void BufferEvent::Impl::ensure_write_event() {
  if (write_ev() || fd < 0) return;
  BufferEvent* owner_bev = &self();
  extras_ref().write_ev = std::make_unique<Event>(base(), fd, kWrite | kPersist, &write_cb, owner_bev);
}

void BufferEvent::Impl::arm_read() {
  if (!any(enabled() & kRead) || fd < 0 ||
      (state & (kSocketClosed | kClosing | kConnecting | kSuspended | kReadThrottled)) != 0) {
    return;
  }
  ensure_read_event();
  read_ev().add();
  if (extras && extras->read_timeout) {
    if (!extras->read_timer) {
      BufferEvent* owner_bev = &self();
      extras->read_timer = std::make_unique<Event>(base(), -1, EventFlags{}, &read_timeout_cb, owner_bev);
    }
    extras->read_timer->add(*extras->read_timeout);  // restarts it
  } else if (extras && extras->read_timer) {
    extras->read_timer->del();
  }
}

void BufferEvent::Impl::disarm_read() {
  if (has_read_ev()) read_ev().del();
  if (extras && extras->read_timer) extras->read_timer->del();
}

void BufferEvent::Impl::arm_write() {
  // Throttled: the refill arms it again — except for a connect in progress, which needs the
  // write event to learn its result (a member of a suspended group may still connect).
  if (fd < 0 || closed() || (state & (kWriteThrottled | kConnecting)) == kWriteThrottled) return;
  ensure_write_event();
  try {
    // A graceful close has its own deadline; the write timeout is for user traffic.
    if (extras && extras->write_timeout && (state & kClosing) == 0) {
      write_ev()->add(*extras->write_timeout);
    } else {
      write_ev()->add();
    }
  } catch (const std::system_error& e) {
    // The kernel refused to watch the fd (epoll_ctl ADD: ENOSPC, ENOMEM — the fd was not in
    // the set because reading is off). This connection fails, from the loop; not the caller
    // of write(), not the loop.
    if ((state & kClosing) != 0) {
      finish_close(false);
      return;
    }
    enabled_off(kWrite);
    queue(EventFlags{}, kBevError | kBevWriting, e.code().value());
    return;
  }
  state |= kWriteArmed;
}

void BufferEvent::Impl::disarm_write() {
  if ((state & kWriteArmed) == 0) return;
  state &= ~kWriteArmed;
  write_ev()->del();
}

void BufferEvent::Impl::suspend_reading() {
  state |= kSuspended;
  disarm_read();
  if ((state & kLengthHook) == 0) {
    // Resume when the reader drains the input below the high watermark, wherever it drains
    // (in the read callback or later). Installed once and kept: removing it from inside its
    // own invocation would destroy the running function.
    state |= kLengthHook;
    input.set_length_callback([this](std::size_t, std::size_t, std::size_t deleted) {
      if (deleted > 0) maybe_resume_reading();
    });
  }
}

void BufferEvent::Impl::maybe_resume_reading() {
  if ((state & kSuspended) == 0) return;
  if (read_high() != 0 && input.length() >= read_high()) return;
  state &= ~kSuspended;
  arm_read();
}

// ---- Public API ---------------------------------------------------------------------------

BufferEvent::BufferEvent(EventBase& base, int fd, BevOptions options) {
  base.assert_in_loop_thread();
  // The budget of an idle connection (see buffer_event_impl.h and docs/PERFORMANCE.md):
  // 184 bytes, the read IoEvent (80) and two 24-byte Buffers included, is one glibc chunk of
  // 192; one byte more costs 16.
  static_assert(sizeof(Impl) <= 168, "BufferEvent::Impl grew past its budget");
  impl_ = std::make_unique<Impl>(*this, base, fd, options);
}

BufferEvent::~BufferEvent() = default;

bool BufferEvent::connect(const SocketAddress& address) {
  Impl& d = *impl_;
  if (d.closed() || (d.state & (Impl::kConnecting | Impl::kClosing)) != 0) {
    errno = d.closed() ? EBADF : EALREADY;
    return false;
  }
  if (address.family() != AF_INET && address.family() != AF_INET6) {
    errno = EAFNOSUPPORT;
    return false;
  }
  bool created_socket = false;
  if (d.fd < 0) {
    d.fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d.fd < 0) return false;
    created_socket = true;
  }
  int rc;
  do {
    rc = ::connect(d.fd, address.get(), address.length());
  } while (rc != 0 && errno == EINTR);
  const int error = rc == 0 ? 0 : errno;
  if (rc != 0 && error != EINPROGRESS && error != ECONNREFUSED) {
    if (created_socket) {
      sys().close(d.fd);
      d.fd = -1;
    }
    errno = error;
    return false;
  }
  if (created_socket) d.state |= Impl::kOwnFd;
  d.ensure_read_event();
  d.state |= Impl::kConnecting;
  d.arm_write();
  if (rc == 0 || error == ECONNREFUSED) {
    // Finished (or failed) at once: report it from the loop, never from inside connect().
    if (error != 0) d.extras_ref().connect_error = error;
    d.write_ev()->activate(kWrite);
  }
  return true;
}

void BufferEvent::setcb(DataCallback read_cb, DataCallback write_cb, EventCallback event_cb) {
  Impl& d = *impl_;
  const BevCallbacks which = (read_cb ? kBevCbRead : BevCallbacks{}) |
                             (write_cb ? kBevCbWrite : BevCallbacks{}) |
                             (event_cb ? kBevCbEvent : BevCallbacks{});
  // The holder is `handler` itself while it is in use (no Extras for it), parked in Extras
  // while an object handler is set; never destroyed before the BufferEvent: one of its
  // functions may be running.
  FunctionHandler* holder;
  if ((d.state & Impl::kHandlerIsFunctions) != 0) {
    holder = static_cast<FunctionHandler*>(d.handler);
  } else if (d.extras && d.extras->functions) {
    holder = d.extras->functions.release();
  } else {
    holder = new FunctionHandler();
  }
  holder->set(std::move(read_cb), std::move(write_cb), std::move(event_cb));
  d.handler = holder;
  d.state |= Impl::kHandlerIsFunctions;
  d.callbacks = which;
}

void BufferEvent::setcb(BufferEventHandler* handler, BevCallbacks which) {
  Impl& d = *impl_;
  // Functions set before are dropped, but their holder stays: one of them may be running.
  if ((d.state & Impl::kHandlerIsFunctions) != 0) {
    d.extras_ref().functions.reset(static_cast<FunctionHandler*>(d.handler));
    d.state &= static_cast<std::uint16_t>(~Impl::kHandlerIsFunctions);
  }
  if (d.extras && d.extras->functions) d.extras->functions->set({}, {}, {});
  d.handler = handler;
  d.callbacks = handler != nullptr ? which & (kBevCbRead | kBevCbWrite | kBevCbEvent) : BevCallbacks{};
}

// ---- Impl: BufferEventFront's calls (buffer_event_front_impl.h) ---------------------------

void BufferEvent::Impl::enable(EventFlags what) {
  if (closed()) return;
  if (any(what & kRead)) {
    enabled_on(kRead);
    arm_read();
  }
  if (any(what & kWrite)) {
    enabled_on(kWrite);
    write_now();
  }
}

void BufferEvent::Impl::disable(EventFlags what) {
  if (any(what & kRead)) {
    enabled_off(kRead);
    if ((state & kClosing) == 0) disarm_read();
  }
  if (any(what & kWrite)) {
    enabled_off(kWrite);
    // A connect in progress and a graceful close keep their own write interest.
    if ((state & (kConnecting | kClosing)) == 0) disarm_write();
  }
}

void BufferEvent::Impl::flush_output() {
  if (!output.empty()) write_now();
}

void BufferEvent::Impl::set_read_watermarks(std::size_t low, std::size_t high) {
  if (low != 0 || high != 0 || extras) {  // the defaults cost no Extras
    extras_ref().read_low = clamp32(low);
    extras_ref().read_high = clamp32(high);
  }
  if ((state & kSuspended) != 0) {
    maybe_resume_reading();
  } else if (read_high() != 0 && input.length() >= read_high()) {
    suspend_reading();
  }
}

void BufferEvent::Impl::set_write_low_watermark(std::size_t low) {
  if (low != 0 || extras) extras_ref().write_low = clamp32(low);
}

template class BufferEventFront<BufferEvent>;

std::size_t BufferEvent::read_low_watermark() const { return impl_->read_low(); }
std::size_t BufferEvent::read_high_watermark() const { return impl_->read_high(); }
std::size_t BufferEvent::write_low_watermark() const { return impl_->write_low(); }
bool BufferEvent::read_suspended_by_watermark() const { return (impl_->state & Impl::kSuspended) != 0; }

void BufferEvent::set_timeouts(std::optional<Duration> read, std::optional<Duration> write) {
  Impl& d = *impl_;
  if (!d.extras && !read && !write) return;
  Impl::Extras& x = d.extras_ref();
  x.read_timeout = read;
  x.write_timeout = write;
  // Re-add what is armed, so the new timeouts (or none) take effect now.
  if (d.has_read_ev() && any(d.read_ev().pending(kRead))) d.arm_read();
  if ((d.state & Impl::kWriteArmed) != 0) d.arm_write();
}

void BufferEvent::close_gracefully(Duration deadline, std::function<void(bool clean)> done) {
  impl_->start_graceful_close(deadline, std::nullopt, std::move(done));
}

void BufferEvent::close_gracefully_unless_stalled(Duration stall, std::function<void(bool clean)> done) {
  impl_->start_graceful_close(stall, stall, std::move(done));
}

void BufferEvent::close_abortively() {
  Impl& d = *impl_;
  if (d.closed()) return;
  std::function<void(bool)> done;
  if (d.extras) done = std::move(d.extras->close_done);
  d.output.drain(d.output.length());
  d.mark_closed();  // unregisters the events before the fd goes
  if (d.fd >= 0) net::close_with_reset(d.fd);
  d.fd = -1;
  if (done) done(false);
}

bool BufferEvent::closed() const { return impl_->closed(); }
int BufferEvent::fd() const { return impl_->fd; }
EventBase& BufferEvent::base() const { return impl_->base(); }

std::uint64_t BufferEvent::bytes_read() const { return impl_->bytes_read(); }
std::uint64_t BufferEvent::bytes_written() const { return impl_->bytes_written(); }
TimePoint BufferEvent::created_at() const { return impl_->created; }
TimePoint BufferEvent::last_read_at() const { return impl_->last_read(); }
TimePoint BufferEvent::last_write_at() const { return impl_->last_write(); }

// Every event of this BufferEvent shows it (through Impl::describe): set once, no event
// touched.
void BufferEvent::set_owner(std::uint64_t owner) { impl_->owner = owner; }
std::uint64_t BufferEvent::owner() const { return impl_->owner; }

// 0 while the event does not exist: the read event exists with the socket, the write event
// from the first time output had to wait. Asking does not create it (inspection must not grow
// every connection).
std::uint64_t BufferEvent::read_event_id() const { return impl_->has_read_ev() ? impl_->read_ev().id() : 0; }

std::uint64_t BufferEvent::write_event_id() const { return impl_->write_ev() ? impl_->write_ev()->id() : 0; }

}  // namespace reactor
