// Event: libevent's struct event. An fd event, a signal event or a pure timer, bound to one
// EventBase for its whole life. Life cycle as in libevent:
//   constructed → initialized;  add() → pending;  ready/timeout/activate() → active;
//   callback runs → pending again (kPersist) or initialized (otherwise).
// An Event is neither copyable nor movable: the base refers to it by address.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "reactor/clock.h"
#include "reactor/detail/event_core.h"
#include "reactor/event_flags.h"
#include "reactor/inspection.h"

namespace reactor {

class EventBase;
struct CommonTimeout;

class Event {
 public:
  // Receives the fd (or signal number, or -1 for a timer) and the flags that fired.
  using Callback = EventCallback;
  // libevent's event_callback_fn: (fd, fired, arg).
  using Function = EventFunction;

  // event_new(base, fd, what, cb). fd = -1 and no kRead/kWrite/kSignal = a pure timer
  // (evtimer_new). With kSignal, fd is the signal number (evsignal_new). The std::function
  // lives in an adapter the Event allocates (one allocation); the form below stores only the
  // function pointer and its argument, as libevent does. Loop thread only.
  Event(EventBase& base, int fd, EventFlags what, Callback cb);
  // event_new(base, fd, what, fn, arg): no allocation besides the Event. Loop thread only.
  Event(EventBase& base, int fd, EventFlags what, Function fn, void* arg);
  // event_free: safe while pending or active — it is removed first and its callback will not
  // run. Must not be called from inside this event's own callback (hand it to
  // EventBase::defer_delete instead). Loop thread only.
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // evtimer_new(base, cb). Loop thread only.
  static std::unique_ptr<Event> timer(EventBase& base, Callback cb);
  // evsignal_new(base, signo, cb): persistent signal event. The callback runs on the loop
  // thread, whatever thread the signal arrived on. A signal number belongs to ONE base at a
  // time: add() on a second base throws std::logic_error until the first base has no event
  // for it any more. The previous disposition is restored when the last event for the
  // signal is removed. Loop thread only.
  static std::unique_ptr<Event> signal(EventBase& base, int signo, Callback cb);

  // event_add(ev, NULL): pending with no timeout (a pure timer needs a timeout).
  // Re-adding a pending event keeps it pending and replaces (or clears) its timeout.
  // Throws std::system_error if the backend refuses the fd, std::logic_error on misuse (a
  // pure timer without timeout; a signal owned by another base; kET and level-triggered
  // events on one fd with epoll). kET is honoured by epoll only: poll is level-triggered.
  // Loop thread only.
  void add();
  // event_add(ev, &tv): pending, with a timeout from now. Loop thread only.
  void add(Duration timeout);
  // event_add with a common timeout (event_base_init_common_timeout): O(1) insertion for the
  // many timers that share one duration. Loop thread only.
  void add(const CommonTimeout& timeout);
  // event_del: not pending and not active any more; its callback will not run even if it
  // was already active in this iteration. No-op when initialized. Loop thread only.
  void del();
  // event_active(ev, flags, 0): make active now with these flags, whether pending or not.
  // Works from inside callbacks (the event runs later in this iteration or the next).
  // Loop thread only.
  void activate(EventFlags flags);

  // event_pending(ev, what, &tv): the subset of `what` this event is pending or active on;
  // if time_left is given and a timeout is scheduled, the time until it. Loop thread only.
  EventFlags pending(EventFlags what, std::optional<Duration>* time_left = nullptr) const;
  // initialized / pending / active. Loop thread only.
  EventState state() const;
  // event_initialized: always true for a constructed Event; here for the mapping.

  // event_priority_set: 0 is the most urgent; must be < base.priorities(). Not while
  // active. Loop thread only.
  void set_priority(int priority);
  // Owner tag and label shown by EventBase::snapshot() (a connection id, "conn.read"). Kept
  // in a side table of the base, not in the event (an object with many events tags them
  // through a describer instead: see detail::register_describer). Loop thread only.
  void set_owner(std::uint64_t owner);
  // The label must outlive the event (a string literal): events are many, labels are few.
  void set_label(const char* label);
  // Marks the event internal to a library object (kind kInternal in the snapshot). Loop
  // thread only.
  void set_internal(bool internal);

  // Getters (event_get_fd, event_get_base, event_get_events, event_get_priority,
  // event_get_callback). Loop thread only.
  int fd() const;
  EventBase& base() const;
  EventFlags events() const;
  int priority() const;
  // The std::function given at construction; an empty one for the (fn, arg) form.
  const Callback& callback() const;
  Function function() const;   // event_get_callback
  void* function_arg() const;  // event_get_callback_arg
  std::uint64_t id() const;    // unique within the base, never reused
  std::uint64_t owner() const;
  const char* label() const;  // "" when none
  EventKind kind() const;

 private:
  friend class EventBase;
  detail::TimedEventCore core_;  // in place: the base links to it by address
};

}  // namespace reactor
