// The C structs behind libevent's opaque types, on the reactor's C++ objects. Shared by the
// compat sources (and, through reactor_event_private.h, by the inspection library). Not
// installed: C programs see only the opaque names in include/event2/.
#pragma once

#include <sys/time.h>

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <vector>

#include "event2/buffer.h"
#include "event2/bufferevent.h"
#include "event2/event.h"
#include "event2/listener.h"
#include "reactor/buffer.h"
#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/listener.h"

namespace reactor_event {

// libevent's warnings: to the event_set_log_callback callback, or "[warn] msg" on stderr.
void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

reactor::Duration to_duration(const timeval& tv);
timeval to_timeval(reactor::Duration d);
// Wall-clock time `left` from now (libevent reports deadlines as gettimeofday-based times).
timeval wall_clock_in(reactor::Duration left);

// The common timeout (event_base_init_common_timeout) a timeval stands for, if it is one.
std::optional<reactor::CommonTimeout> common_timeout_of(struct event_base* base, const timeval& tv);

// Something event_base_free must shut down first (the inspection server).
struct FreeHook {
  void (*fn)(void* arg);
  void* arg;
};

}  // namespace reactor_event

struct event_base {
  explicit event_base(const reactor::EventBaseConfig& config) : base(config) {}
  reactor::EventBase base;
  int loop_depth = 0;  // > 0 while event_base_loop runs: frees from callbacks are deferred
  // Common timeouts handed out, by index (tv_usec carries the index, as in libevent).
  std::vector<reactor::CommonTimeout> common;
  std::vector<timeval> common_tv;
  std::vector<reactor_event::FreeHook> free_hooks;
  struct event* events_head = nullptr;  // events made by event_new/event_assign, newest first
};

// One event: the C callback and argument, and the reactor Event held in place (created by
// event_assign, so it can be re-assigned). The reactor callback is a lambda holding only
// `this`: running it is one indirect call (std::function's invoker) and then the C callback.
struct event {
  static constexpr std::uint32_t kMagic = 0x52455645;  // "REVE": assigned
  std::uint32_t magic = 0;
  short events = 0;
  event_callback_fn cb = nullptr;
  void* arg = nullptr;
  struct event_base* base = nullptr;
  struct event* prev = nullptr;  // in base->events
  struct event* next = nullptr;
  alignas(reactor::Event) unsigned char storage[sizeof(reactor::Event)];

  reactor::Event& ev() { return *std::launder(reinterpret_cast<reactor::Event*>(storage)); }
  const reactor::Event& ev() const { return *std::launder(reinterpret_cast<const reactor::Event*>(storage)); }
  bool assigned() const { return magic == kMagic; }
};

struct evbuffer_cb_entry {
  evbuffer_cb_func cb;
  void* arg;
  std::uint32_t flags;
};

// An evbuffer is either its own reactor::Buffer (evbuffer_new) or a view of a bufferevent's.
struct evbuffer {
  std::unique_ptr<reactor::Buffer> owned;
  reactor::Buffer* buf = nullptr;
  std::vector<std::unique_ptr<evbuffer_cb_entry>> cbs;
  // evbuffer_reserve_space when the reactor's reservation does not fit the caller's vectors:
  // the bytes go through this scratch and are appended at commit.
  std::vector<unsigned char> scratch;
  bool scratch_reserved = false;
  // Set on a bufferevent's output: bytes added through the evbuffer API go out as they would
  // on libevent (whose bufferevent watches its output buffer).
  struct bufferevent* flush_owner = nullptr;
  void added();
};

// A bufferevent: the reactor BufferEvent with this object as its handler, so each callback is
// one virtual call and then the C callback.
struct bufferevent final : reactor::BufferEventHandler {
  bufferevent(struct event_base* b, int fd, int options);
  void on_read(reactor::BufferEvent&) override;
  void on_write(reactor::BufferEvent&) override;
  void on_event(reactor::BufferEvent&, reactor::BevFlags what, int error) override;

  struct event_base* base;
  std::unique_ptr<reactor::BufferEvent> bev;
  bufferevent_data_cb readcb = nullptr;
  bufferevent_data_cb writecb = nullptr;
  bufferevent_event_cb eventcb = nullptr;
  void* cbarg = nullptr;
  struct evbuffer input;
  struct evbuffer output;
  std::size_t write_high = 0;
  bool freed = false;

  // libevent defers every write to the write event, so a write callback installed right after
  // bufferevent_write still hears that the output drained. The reactor sends at once and
  // decides then: when that happened with no write callback, remember the iteration, and a
  // write callback installed in the same iteration is run from late_write.
  std::uint64_t drained_unheard_at = 0;  // loop iteration + 1; 0 = none
  std::unique_ptr<reactor::Event> late_write;
  void wrote(std::size_t before);
  void maybe_late_write();
};

struct evconnlistener {
  struct event_base* base = nullptr;
  std::unique_ptr<reactor::Listener> listener;
  evconnlistener_cb cb = nullptr;
  evconnlistener_errorcb errorcb = nullptr;
  void* arg = nullptr;
  bool enabled = false;  // what the user asked; accepting also needs a callback
  bool freed = false;
  void apply();
};

namespace reactor_event {

// Frees obj now, or at the end of the iteration when the loop runs (a C program may free an
// object from inside its own callback; the reactor's objects must not die there).
template <typename T>
void free_later(struct event_base* base, std::unique_ptr<T> obj) {
  if (base != nullptr && base->loop_depth > 0) {
    base->base.defer_delete(std::move(obj));
  } else {
    obj.reset();
  }
}

}  // namespace reactor_event
