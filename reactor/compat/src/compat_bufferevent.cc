// struct bufferevent on reactor::BufferEvent (socket bufferevents only).
#include <cerrno>
#include <exception>

#include "compat_internal.h"

using reactor_event::warn;

bufferevent::bufferevent(struct event_base* b, int fd, int options)
    : base(b),
      bev(std::make_unique<reactor::BufferEvent>(
          b->base, fd,
          ((options & BEV_OPT_CLOSE_ON_FREE) != 0 ? reactor::kBevOptCloseOnFree : 0) |
              ((options & BEV_OPT_DEFER_CALLBACKS) != 0 ? reactor::kBevOptDeferCallbacks : 0))) {
  input.buf = &bev->input();
  output.buf = &bev->output();
  output.flush_owner = this;
}

void bufferevent::on_read(reactor::BufferEvent&) { readcb(this, cbarg); }
void bufferevent::on_write(reactor::BufferEvent&) { writecb(this, cbarg); }
void bufferevent::on_event(reactor::BufferEvent&, reactor::BevFlags what, int error) {
  // libevent reports the error through errno (EVUTIL_SOCKET_ERROR()).
  if (error != 0) errno = error;
  eventcb(this, static_cast<short>(what), cbarg);
}

void evbuffer::added() {
  if (flush_owner == nullptr) return;
  const std::size_t before = buf->length();
  flush_owner->bev->flush_output();
  flush_owner->wrote(before);
}

void bufferevent::wrote(std::size_t before) {
  if (writecb != nullptr || before <= bev->write_low_watermark()) return;
  if (bev->output().length() > bev->write_low_watermark()) return;  // the write event will tell
  drained_unheard_at = base->base.stats().iterations + 1;
}

void bufferevent::maybe_late_write() {
  if (writecb == nullptr || drained_unheard_at == 0) return;
  const bool same_iteration = drained_unheard_at == base->base.stats().iterations + 1;
  drained_unheard_at = 0;
  if (!same_iteration) return;
  if (!late_write) {
    late_write = reactor::Event::timer(base->base, [this](int, reactor::EventFlags) {
      if (writecb != nullptr && !freed && bev->output().length() <= bev->write_low_watermark()) {
        writecb(this, cbarg);
      }
    });
    late_write->set_label("bev.late_write");
  }
  late_write->activate(reactor::kWrite);
}

namespace {

void apply_callbacks(struct bufferevent* b) {
  const reactor::BevCallbacks which =
      (b->readcb != nullptr ? reactor::kBevCbRead : reactor::BevCallbacks{}) |
      (b->writecb != nullptr ? reactor::kBevCbWrite : reactor::BevCallbacks{}) |
      (b->eventcb != nullptr ? reactor::kBevCbEvent : reactor::BevCallbacks{});
  b->bev->setcb(reactor::any(which) ? b : nullptr, which);
}

}  // namespace

extern "C" {

struct bufferevent* bufferevent_socket_new(struct event_base* base, evutil_socket_t fd, int options) {
  if (base == nullptr) return nullptr;
  if ((options & (BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS)) == BEV_OPT_UNLOCK_CALLBACKS) {
    warn("UNLOCK_CALLBACKS requires DEFER_CALLBACKS");
    return nullptr;
  }
  try {
    return new bufferevent(base, fd, options);
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    return nullptr;
  }
}

int bufferevent_socket_connect(struct bufferevent* b, const struct sockaddr* sa, int socklen) {
  if (b == nullptr || sa == nullptr || socklen <= 0) return -1;
  if (!b->bev->connect(reactor::SocketAddress(sa, static_cast<socklen_t>(socklen)))) return -1;
  return 0;
}

void bufferevent_free(struct bufferevent* b) {
  if (b == nullptr || b->freed) return;
  b->freed = true;
  // No callback runs any more; the socket closes now (BEV_OPT_CLOSE_ON_FREE) or, from inside
  // a callback, at the end of this iteration.
  b->bev->setcb(nullptr, reactor::BevCallbacks{});
  b->bev->disable(reactor::kRead | reactor::kWrite);
  if (b->late_write) b->late_write->del();
  reactor_event::free_later(b->base, std::unique_ptr<bufferevent>(b));
}

void bufferevent_setcb(struct bufferevent* b, bufferevent_data_cb readcb, bufferevent_data_cb writecb,
                       bufferevent_event_cb eventcb, void* cbarg) {
  b->readcb = readcb;
  b->writecb = writecb;
  b->eventcb = eventcb;
  b->cbarg = cbarg;
  apply_callbacks(b);
  b->maybe_late_write();
}

void bufferevent_getcb(struct bufferevent* b, bufferevent_data_cb* readcb_ptr,
                       bufferevent_data_cb* writecb_ptr, bufferevent_event_cb* eventcb_ptr,
                       void** cbarg_ptr) {
  if (readcb_ptr != nullptr) *readcb_ptr = b->readcb;
  if (writecb_ptr != nullptr) *writecb_ptr = b->writecb;
  if (eventcb_ptr != nullptr) *eventcb_ptr = b->eventcb;
  if (cbarg_ptr != nullptr) *cbarg_ptr = b->cbarg;
}

evutil_socket_t bufferevent_getfd(struct bufferevent* b) { return b->bev->fd(); }
struct event_base* bufferevent_get_base(struct bufferevent* b) {
  return b->base;
}

int bufferevent_write(struct bufferevent* b, const void* data, size_t size) {
  const std::size_t before = b->bev->output().length() + size;
  b->bev->write(data, size);
  b->wrote(before);
  return 0;
}

int bufferevent_write_buffer(struct bufferevent* b, struct evbuffer* buf) {
  const std::size_t before = b->bev->output().length() + buf->buf->length();
  b->bev->write_buffer(*buf->buf);
  b->wrote(before);
  return 0;
}

size_t bufferevent_read(struct bufferevent* b, void* data, size_t size) {
  return b->bev->input().remove(data, size);
}

int bufferevent_read_buffer(struct bufferevent* b, struct evbuffer* buf) {
  buf->buf->append_buffer(b->bev->input());
  return 0;
}

struct evbuffer* bufferevent_get_input(struct bufferevent* b) {
  return &b->input;
}
struct evbuffer* bufferevent_get_output(struct bufferevent* b) {
  return &b->output;
}

int bufferevent_enable(struct bufferevent* b, short event) {
  b->bev->enable(static_cast<reactor::EventFlags>(event & (EV_READ | EV_WRITE)));
  // Output added straight to the evbuffer (evbuffer_add on bufferevent_get_output) goes out
  // once writing is enabled, as libevent's write event would send it.
  if ((event & EV_WRITE) != 0) b->bev->flush_output();
  return 0;
}

int bufferevent_disable(struct bufferevent* b, short event) {
  b->bev->disable(static_cast<reactor::EventFlags>(event & (EV_READ | EV_WRITE)));
  return 0;
}

short bufferevent_get_enabled(struct bufferevent* b) { return static_cast<short>(b->bev->enabled()); }

int bufferevent_set_timeouts(struct bufferevent* b, const struct timeval* timeout_read,
                             const struct timeval* timeout_write) {
  std::optional<reactor::Duration> r, w;
  // libevent: NULL or a zero timeval means none.
  if (timeout_read != nullptr && timerisset(timeout_read)) r = reactor_event::to_duration(*timeout_read);
  if (timeout_write != nullptr && timerisset(timeout_write)) w = reactor_event::to_duration(*timeout_write);
  b->bev->set_timeouts(r, w);
  return 0;
}

void bufferevent_setwatermark(struct bufferevent* b, short events, size_t lowmark, size_t highmark) {
  if ((events & EV_WRITE) != 0) {
    b->bev->set_write_low_watermark(lowmark);
    b->write_high = highmark;  // kept for bufferevent_getwatermark; sockets do not use it
  }
  if ((events & EV_READ) != 0) b->bev->set_read_watermarks(lowmark, highmark);
}

int bufferevent_getwatermark(struct bufferevent* b, short events, size_t* lowmark, size_t* highmark) {
  if (events == EV_WRITE) {
    if (lowmark != nullptr) *lowmark = b->bev->write_low_watermark();
    if (highmark != nullptr) *highmark = b->write_high;
    return 0;
  }
  if (events == EV_READ) {
    if (lowmark != nullptr) *lowmark = b->bev->read_low_watermark();
    if (highmark != nullptr) *highmark = b->bev->read_high_watermark();
    return 0;
  }
  return -1;
}

int bufferevent_flush(struct bufferevent*, short, enum bufferevent_flush_mode) { return 0; }

}  // extern "C"
