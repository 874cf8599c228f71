// BufferEvent public API: construction, callbacks, interest, watermarks, timeouts, counters.
// The I/O paths are in buffer_event_io.cc, closing in buffer_event_close.cc.
#include "reactor/buffer_event.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

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

BufferEvent::Impl::Impl(BufferEvent& s, EventBase& b, int socket_fd, BevOptions opts)
    : self(&s), fd(socket_fd), options(static_cast<std::uint8_t>(opts)) {
  created = last_read = last_write = b.now();
  if (fd >= 0) {
    net::set_nonblocking(fd);
    read_ev.emplace(b, fd, kRead | kPersist, [this](int, EventFlags fired) { on_read(fired); });
    read_ev->set_label("bev.read");
  } else {
    extras_ref().base = &b;  // until connect() makes the socket and its read event
  }
}

EventBase& BufferEvent::Impl::base() const { return read_ev ? read_ev->base() : *extras->base; }

BufferEvent::Impl::~Impl() {
  // Leave a rate-limit group first (it points at us), then unregister before the fd goes away.
  if (extras && extras->rate_limit) drop_rate_limit_on_close();
  read_ev.reset();
  write_ev.reset();
  extras.reset();
  if (fd >= 0 && ((options & kBevOptCloseOnFree) != 0 || (state & kOwnFd) != 0)) sys().close(fd);
}

BufferEvent::Impl::Extras& BufferEvent::Impl::extras_ref() {
  if (!extras) extras = std::make_unique<Extras>();
  return *extras;
}

std::uint64_t BufferEvent::Impl::owner() const {
  if (read_ev) return read_ev->owner();
  return extras ? extras->owner : 0;
}

// Not marked internal: these events run user code (callbacks, `done`), so they count as user
// work for the loop (kLoopOnce, liveness, stats) like the read and write events.
void BufferEvent::Impl::tag(Event& event, const char* label) const {
  event.set_label(label);
  event.set_owner(owner());
}

void BufferEvent::Impl::ensure_read_event() {
  if (read_ev || fd < 0) return;
  const std::uint64_t tag_owner = owner();
  read_ev.emplace(base(), fd, kRead | kPersist, [this](int, EventFlags fired) { on_read(fired); });
  read_ev->set_label("bev.read");
  read_ev->set_owner(tag_owner);
}

void BufferEvent::Impl::ensure_write_event() {
  if (write_ev || fd < 0) return;
  write_ev = std::make_unique<Event>(base(), fd, kWrite | kPersist,
                                     [this](int, EventFlags fired) { on_write(fired); });
  tag(*write_ev, "bev.write");
}

void BufferEvent::Impl::arm_read() {
  if ((enabled & kRead) == 0 || fd < 0 ||
      (state & (kClosed | kClosing | kConnecting | kSuspended | kReadThrottled)) != 0) {
    return;
  }
  ensure_read_event();
  if (extras && extras->read_timeout) {
    read_ev->add(*extras->read_timeout);
  } else {
    read_ev->add();
  }
}

void BufferEvent::Impl::arm_write() {
  // Throttled: the refill arms it again — except for a connect in progress, which needs the
  // write event to learn its result (a member of a suspended group may still connect).
  if (fd < 0 || closed() || (state & (kWriteThrottled | kConnecting)) == kWriteThrottled) return;
  ensure_write_event();
  try {
    // A graceful close has its own deadline; the write timeout is for user traffic.
    if (extras && extras->write_timeout && (state & kClosing) == 0) {
      write_ev->add(*extras->write_timeout);
    } else {
      write_ev->add();
    }
  } catch (const std::system_error& e) {
    // The kernel refused to watch the fd (epoll_ctl ADD: ENOSPC, ENOMEM — the fd was not in
    // the set because reading is off). This connection fails, from the loop; not the caller
    // of write(), not the loop.
    if ((state & kClosing) != 0) {
      finish_close(false);
      return;
    }
    enabled &= ~kWrite;
    queue(0, kBevError | kBevWriting, e.code().value());
    return;
  }
  state |= kWriteArmed;
}

void BufferEvent::Impl::disarm_write() {
  if ((state & kWriteArmed) == 0) return;
  state &= ~kWriteArmed;
  write_ev->del();
}

void BufferEvent::Impl::suspend_reading() {
  state |= kSuspended;
  if (read_ev) read_ev->del();
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
  if (read_high != 0 && input.length() >= read_high) return;
  state &= ~kSuspended;
  arm_read();
}

// ---- Public API ---------------------------------------------------------------------------

BufferEvent::BufferEvent(EventBase& base, int fd, BevOptions options) {
  base.assert_in_loop_thread();
  // The budget of an idle connection (see buffer_event_impl.h): 344 bytes, the read Event
  // (168) included, is one glibc chunk of 352; one byte more costs 16.
  static_assert(sizeof(Impl) <= 344, "BufferEvent::Impl grew past its budget");
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
    d.write_ev->activate(kWrite);
  }
  return true;
}

void BufferEvent::setcb(DataCallback read_cb, DataCallback write_cb, EventCallback event_cb) {
  Impl& d = *impl_;
  const BevCallbacks which =
      (read_cb ? kBevCbRead : 0) | (write_cb ? kBevCbWrite : 0) | (event_cb ? kBevCbEvent : 0);
  if (!d.functions) d.functions = std::make_unique<FunctionHandler>();
  d.functions->set(std::move(read_cb), std::move(write_cb), std::move(event_cb));
  d.handler = d.functions.get();
  d.callbacks = which;
}

void BufferEvent::setcb(BufferEventHandler* handler, BevCallbacks which) {
  Impl& d = *impl_;
  // Functions set before are dropped, but their holder stays: one of them may be running.
  if (d.functions) d.functions->set({}, {}, {});
  d.handler = handler;
  d.callbacks = handler != nullptr ? which & (kBevCbRead | kBevCbWrite | kBevCbEvent) : 0;
}

void BufferEvent::enable(EventFlags what) {
  Impl& d = *impl_;
  if (d.closed()) return;
  if ((what & kRead) != 0) {
    d.enabled |= kRead;
    d.arm_read();
  }
  if ((what & kWrite) != 0) {
    d.enabled |= kWrite;
    d.write_now();
  }
}

void BufferEvent::disable(EventFlags what) {
  Impl& d = *impl_;
  if ((what & kRead) != 0) {
    d.enabled &= ~kRead;
    if (d.read_ev && (d.state & Impl::kClosing) == 0) d.read_ev->del();
  }
  if ((what & kWrite) != 0) {
    d.enabled &= ~kWrite;
    // A connect in progress and a graceful close keep their own write interest.
    if ((d.state & (Impl::kConnecting | Impl::kClosing)) == 0) d.disarm_write();
  }
}

EventFlags BufferEvent::enabled() const { return impl_->enabled; }

void BufferEvent::write(const void* data, std::size_t len) {
  Impl& d = *impl_;
  if (len == 0 || d.closed() || (d.state & Impl::kShutWr) != 0) return;
  d.output.append(data, len);
  d.write_now();
}

void BufferEvent::write_buffer(Buffer& data) {
  Impl& d = *impl_;
  if (data.empty() || d.closed() || (d.state & Impl::kShutWr) != 0) return;
  d.output.append_buffer(data);
  d.write_now();
}

Buffer& BufferEvent::input() { return impl_->input; }
Buffer& BufferEvent::output() { return impl_->output; }

void BufferEvent::flush_output() {
  if (!impl_->output.empty()) impl_->write_now();
}

void BufferEvent::set_read_watermarks(std::size_t low, std::size_t high) {
  Impl& d = *impl_;
  d.read_low = clamp32(low);
  d.read_high = clamp32(high);
  if ((d.state & Impl::kSuspended) != 0) {
    d.maybe_resume_reading();
  } else if (d.read_high != 0 && d.input.length() >= d.read_high) {
    d.suspend_reading();
  }
}

void BufferEvent::set_write_low_watermark(std::size_t low) { impl_->write_low = clamp32(low); }
std::size_t BufferEvent::read_low_watermark() const { return impl_->read_low; }
std::size_t BufferEvent::read_high_watermark() const { return impl_->read_high; }
std::size_t BufferEvent::write_low_watermark() const { return impl_->write_low; }
bool BufferEvent::read_suspended_by_watermark() const { return (impl_->state & Impl::kSuspended) != 0; }

void BufferEvent::set_timeouts(std::optional<Duration> read, std::optional<Duration> write) {
  Impl& d = *impl_;
  if (!d.extras && !read && !write) return;
  Impl::Extras& x = d.extras_ref();
  x.read_timeout = read;
  x.write_timeout = write;
  // Re-add what is armed, so the new timeouts (or none) take effect now.
  if (d.read_ev && d.read_ev->pending(kRead) != 0) d.arm_read();
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

std::uint64_t BufferEvent::bytes_read() const { return impl_->bytes_read; }
std::uint64_t BufferEvent::bytes_written() const { return impl_->bytes_written; }
TimePoint BufferEvent::created_at() const { return impl_->created; }
TimePoint BufferEvent::last_read_at() const { return impl_->last_read; }
TimePoint BufferEvent::last_write_at() const { return impl_->last_write; }

void BufferEvent::set_owner(std::uint64_t owner) {
  Impl& d = *impl_;
  if (d.read_ev) {
    d.read_ev->set_owner(owner);
  } else {
    d.extras_ref().owner = owner;
  }
  if (d.write_ev) d.write_ev->set_owner(owner);
  if (d.extras) {
    d.extras->owner = owner;
    if (d.extras->deferred) d.extras->deferred->set_owner(owner);
    if (d.extras->close_timer) d.extras->close_timer->set_owner(owner);
  }
}

// 0 while the event does not exist: the read event exists with the socket, the write event
// from the first time output had to wait. Asking does not create it (inspection must not grow
// every connection).
std::uint64_t BufferEvent::read_event_id() const { return impl_->read_ev ? impl_->read_ev->id() : 0; }

std::uint64_t BufferEvent::write_event_id() const { return impl_->write_ev ? impl_->write_ev->id() : 0; }

}  // namespace reactor
