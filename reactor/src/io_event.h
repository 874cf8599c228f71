// IoEvent: an fd event without a timer part — an EventCore of 80 bytes where an Event, which
// can take a timeout, is 112. For an object that keeps one per socket and never puts a timeout
// on it: a BufferEvent's read event (issue #19: 32 bytes less per idle connection; its read
// timeout, rarely set, is a timer Event of its own, "bev.read_timeout"). The base sees it as
// any other event: fd table, active queues, snapshot (owner and label through the describer
// of its callback, detail::register_describer). Internal to the reactor; libevent has no such
// kind (its struct event always carries its timeout fields).
//
// Thread rule: loop thread only, for everything (as Event).
#pragma once

#include <cstdint>

#include "event_base_impl.h"
#include "reactor/detail/event_core.h"
#include "reactor/event_base.h"
#include "reactor/event_flags.h"

namespace reactor::detail {

class IoEvent {
 public:
  // event_new(base, fd, what, fn, arg) for an fd (kRead / kWrite / kClosed, kPersist, kET).
  // Throws std::invalid_argument without an fd, a callback or I/O flags.
  IoEvent(EventBase& base, int fd, EventFlags what, EventFunction fn, void* arg);
  // Removed first if pending or active; not from inside its own callback.
  ~IoEvent();
  IoEvent(const IoEvent&) = delete;
  IoEvent& operator=(const IoEvent&) = delete;

  // event_add(ev, NULL): pending, never with a timeout. Throws as Event::add.
  void add();
  // event_del.
  void del();
  // event_pending(ev, what, NULL).
  EventFlags pending(EventFlags what) const;

  int fd() const { return core_.fd; }
  // Inline: a BufferEvent reaches its base through its read event several times per message.
  EventBase& base() const {
    if (core_.base == nullptr) base_gone();
    return *core_.base->self;
  }
  void* function_arg() const { return core_.arg; }
  std::uint64_t id() const { return core_.id; }

 private:
  [[noreturn]] static void base_gone();  // throws std::logic_error
  EventCore core_;                       // in place: the base links to it by address
};

}  // namespace reactor::detail
