// struct event: event_new / event_assign / event_add / event_del / event_free, activation,
// pending state, getters, priorities, event_base_once.
#include <cstdlib>
#include <exception>

#include "compat_internal.h"

using reactor_event::warn;

namespace {

// event_self_cbarg(): a unique address that stands for "the event itself".
char g_self_cbarg;

void link(struct event* ev) {
  struct event_base* base = ev->base;
  ev->prev = nullptr;
  ev->next = base->events_head;
  if (base->events_head != nullptr) base->events_head->prev = ev;
  base->events_head = ev;
}

void unlink(struct event* ev) {
  if (ev->base == nullptr) return;
  if (ev->prev != nullptr)
    ev->prev->next = ev->next;
  else
    ev->base->events_head = ev->next;
  if (ev->next != nullptr) ev->next->prev = ev->prev;
  ev->prev = ev->next = nullptr;
}

// Destroys the reactor Event held in place (if any) and unlinks it from its base.
void unassign(struct event* ev) {
  if (!ev->assigned()) return;
  unlink(ev);
  ev->ev().~Event();
  ev->magic = 0;
}

bool check_flags(short events) {
  if ((events & EV_SIGNAL) != 0 && (events & (EV_READ | EV_WRITE | EV_CLOSED)) != 0) {
    warn("%s: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED", "event_assign");
    return false;
  }
  return true;
}

}  // namespace

extern "C" {

void* event_self_cbarg(void) { return &g_self_cbarg; }

size_t event_get_struct_event_size(void) { return sizeof(struct event); }

int event_assign(struct event* ev, struct event_base* base, evutil_socket_t fd, short events,
                 event_callback_fn callback, void* callback_arg) {
  if (ev == nullptr || base == nullptr) return -1;
  if (!check_flags(events)) return -1;
  if (callback_arg == &g_self_cbarg) callback_arg = ev;
  if (ev->assigned() && ev->base != nullptr && ev->ev().state() != reactor::EventState::kInitialized) {
    warn("%s: called on a pending or active event", __func__);
    return -1;
  }
  unassign(ev);
  if (ev->magic != 0) ev->magic = 0;
  try {
    // The reactor Event gets the flags it knows (EV_TIMEOUT is implied by add with a timeout).
    const auto what = static_cast<reactor::EventFlags>(
        events & (EV_READ | EV_WRITE | EV_SIGNAL | EV_PERSIST | EV_ET | EV_CLOSED));
    new (ev->storage) reactor::Event(base->base, fd, what, [ev](int f, reactor::EventFlags fired) {
      ev->cb(f, static_cast<short>(fired), ev->arg);
    });
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    return -1;
  }
  // Labels for inspection (reactorctl events): what the program made it with.
  ev->ev().set_label((events & EV_SIGNAL) != 0                          ? "evsignal"
                     : (events & (EV_READ | EV_WRITE | EV_CLOSED)) != 0 ? "event"
                                                                        : "evtimer");
  ev->magic = event::kMagic;
  ev->events = events;
  ev->cb = callback;
  ev->arg = callback_arg;
  ev->base = base;
  link(ev);
  return 0;
}

struct event* event_new(struct event_base* base, evutil_socket_t fd, short events, event_callback_fn callback,
                        void* callback_arg) {
  if (base == nullptr) return nullptr;
  auto* ev = new (std::nothrow) event;
  if (ev == nullptr) return nullptr;
  if (event_assign(ev, base, fd, events, callback, callback_arg) != 0) {
    delete ev;
    return nullptr;
  }
  return ev;
}

void event_free(struct event* ev) {
  if (ev == nullptr) return;
  struct event_base* base = ev->base;
  if (ev->assigned()) {
    ev->ev().del();
    unlink(ev);
    ev->base = nullptr;
  }
  // Freed at the end of the iteration when called from a callback (possibly its own).
  struct Holder {
    explicit Holder(struct event* e) : ev(e) {}
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    struct event* ev;
    ~Holder() {
      if (ev->assigned()) {
        ev->ev().~Event();
        ev->magic = 0;
      }
      delete ev;
    }
  };
  reactor_event::free_later(base, std::make_unique<Holder>(ev));
}

void event_debug_unassign(struct event* ev) {
  if (ev != nullptr && ev->assigned()) ev->ev().del();
}

int event_add(struct event* ev, const struct timeval* tv) {
  if (ev == nullptr || !ev->assigned() || ev->base == nullptr) {
    warn("%s: event has no event_base set.", __func__);
    return -1;
  }
  reactor::Event& e = ev->ev();
  try {
    if (tv == nullptr) {
      // libevent: no timeout given leaves a scheduled one alone, and an event with nothing
      // to wait for (a timer) does not become pending.
      constexpr reactor::EventFlags kIoOrSignal =
          reactor::kRead | reactor::kWrite | reactor::kSignal | reactor::kClosed;
      if ((ev->events & reactor::bits(kIoOrSignal)) == 0 || any(e.pending(kIoOrSignal))) return 0;
      e.add();
      return 0;
    }
    if (auto common = reactor_event::common_timeout_of(ev->base, *tv)) {
      e.add(*common);
    } else {
      if (tv->tv_sec < 0 || tv->tv_usec < 0) {
        e.add(reactor::Duration::zero());
      } else {
        e.add(reactor_event::to_duration(*tv));
      }
    }
    return 0;
  } catch (const std::exception& ex) {
    warn("%s: %s", __func__, ex.what());
    return -1;
  }
}

int event_del(struct event* ev) {
  if (ev == nullptr || !ev->assigned()) return -1;
  if (ev->base == nullptr) return 0;
  ev->ev().del();
  return 0;
}

void event_active(struct event* ev, int res, short) {
  if (ev == nullptr || !ev->assigned() || ev->base == nullptr) return;
  ev->ev().activate(static_cast<reactor::EventFlags>(res));
}

int event_pending(const struct event* ev, short events, struct timeval* tv) {
  if (ev == nullptr || !ev->assigned() || ev->base == nullptr) return 0;
  const auto asked =
      static_cast<reactor::EventFlags>(events & (EV_TIMEOUT | EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL));
  std::optional<reactor::Duration> left;
  const reactor::EventFlags flags = ev->ev().pending(asked, &left);
  if (tv != nullptr && any(flags & reactor::kTimeout) && left) {
    *tv = reactor_event::wall_clock_in(*left);
  }
  return reactor::bits(flags);
}

int event_initialized(const struct event* ev) { return ev != nullptr && ev->assigned() ? 1 : 0; }

evutil_socket_t event_get_fd(const struct event* ev) { return ev->ev().fd(); }
struct event_base* event_get_base(const struct event* ev) {
  return ev->base;
}
short event_get_events(const struct event* ev) { return ev->events; }
event_callback_fn event_get_callback(const struct event* ev) { return ev->cb; }
void* event_get_callback_arg(const struct event* ev) { return ev->arg; }
int event_get_priority(const struct event* ev) { return ev->ev().priority(); }

void event_get_assignment(const struct event* ev, struct event_base** base_out, evutil_socket_t* fd_out,
                          short* events_out, event_callback_fn* callback_out, void** arg_out) {
  if (base_out != nullptr) *base_out = ev->base;
  if (fd_out != nullptr) *fd_out = ev->ev().fd();
  if (events_out != nullptr) *events_out = ev->events;
  if (callback_out != nullptr) *callback_out = ev->cb;
  if (arg_out != nullptr) *arg_out = ev->arg;
}

int event_priority_set(struct event* ev, int priority) {
  if (ev == nullptr || !ev->assigned() || ev->base == nullptr) return -1;
  if (ev->ev().state() == reactor::EventState::kActive) return -1;
  if (priority < 0 || priority >= ev->base->base.priorities()) return -1;
  try {
    ev->ev().set_priority(priority);
    return 0;
  } catch (const std::exception&) {
    return -1;
  }
}

int event_base_once(struct event_base* base, evutil_socket_t fd, short events, event_callback_fn callback,
                    void* arg, const struct timeval* timeout) {
  if (base == nullptr) return -1;
  // As libevent: no signals, no persistence; a bare EV_TIMEOUT is a timer (fd -1) that fires
  // at once without a timeout; anything else must wait for io.
  if ((events & (EV_SIGNAL | EV_PERSIST)) != 0) return -1;
  std::optional<reactor::Duration> after;
  if (timeout != nullptr) after = reactor_event::to_duration(*timeout);
  int use_fd = fd;
  reactor::EventFlags what{};
  if ((events & (EV_TIMEOUT | EV_SIGNAL | EV_READ | EV_WRITE | EV_CLOSED)) == EV_TIMEOUT) {
    use_fd = -1;
    if (!after) after = reactor::Duration::zero();
  } else if ((events & (EV_READ | EV_WRITE | EV_CLOSED)) != 0) {
    what = static_cast<reactor::EventFlags>(events & (EV_READ | EV_WRITE | EV_CLOSED));
  } else {
    return -1;
  }
  try {
    base->base.once(use_fd, what, after, [callback, arg](int f, reactor::EventFlags fired) {
      callback(f, static_cast<short>(fired), arg);
    });
    return 0;
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    return -1;
  }
}

}  // extern "C"
