// EventCore: the state of one Event, held in place inside it (as libevent's struct event
// holds its own links): no second allocation per event, and the loop's hot paths (timer heap,
// active queues, fd lists) touch one cache line fewer per event than through a pointer.
// Not part of the API: only reactor/src uses the fields.
//
// An EventCore sits in up to five intrusive structures at once, each with its own links, so
// that every transition is O(1) (or O(log n) for the timer heap) and allocates nothing:
//   all-list      every event created on the base (snapshot, detaching at base teardown)
//   fd/signal     the events interested in one fd, or in one signal number
//   timer         the min-heap (heap_index) or one common-timeout FIFO (timer_prev/next)
//   active        one priority's active queue, or the "active later" list
#pragma once

#include <cstdint>
#include <functional>

#include "reactor/clock.h"
#include "reactor/event_flags.h"
#include "reactor/inspection.h"

namespace reactor {

// An event's callback: receives the fd (or signal number, or -1 for a timer) and the flags
// that fired. Event::Callback names the same type.
using EventCallback = std::function<void(int fd, EventFlags fired)>;

}  // namespace reactor

namespace reactor::detail {

struct BaseCore;

struct EventCore {
  // Field order is by use, so that an operation touches as few cache lines of a cold event
  // as possible. The first 64 bytes are all that adding, deleting, rescheduling and expiring
  // a timer touch, and activating any event; running a callback adds the second 64.
  BaseCore* base = nullptr;         // nullptr once the base was destroyed (the event is detached)
  TimePoint deadline{};             // when the scheduled timeout expires (valid while in_timer)
  EventCore* timer_prev = nullptr;  // common-timeout FIFO links
  EventCore* timer_next = nullptr;
  std::int32_t heap_index = -1;  // position in the timer heap, -1 when not there
  std::uint32_t common = 0;      // 0: heap timer; n: common-timeout queue n-1
  EventFlags what = 0;           // flags requested at creation
  EventFlags fired = 0;          // flags accumulated while active
  std::uint8_t priority = 0;

  // State bits. inserted = pending (registered with backend / signal map and/or a timer).
  bool inserted : 1 = false;
  bool has_timeout : 1 = false;  // add() was given a timeout (kept for kPersist)
  bool in_timer : 1 = false;
  bool active : 1 = false;
  bool in_later : 1 = false;  // active, but parked until the next iteration
  bool internal : 1 = false;
  bool is_once : 1 = false;  // owned by the base (EventBase::once)

  EventCore* active_prev = nullptr;  // the active queue of its priority, or "later"
  EventCore* active_next = nullptr;

  // Running the callback; I/O registration.
  Duration timeout{0};            // the duration last given to add() (kPersist events only)
  std::int32_t fd = -1;           // fd, or signal number for signal events
  std::uint32_t ran_in_pass = 0;  // pass stamp: re-activation in the same pass waits
  EventCallback cb;
  EventCore* fd_prev = nullptr;  // events on the same fd (or the same signal)
  EventCore* fd_next = nullptr;

  // Inspection and teardown only.
  EventCore* all_prev = nullptr;
  EventCore* all_next = nullptr;
  std::uint64_t id = 0;
  std::uint64_t owner = 0;
  const char* label = nullptr;

  bool is_signal() const { return (what & kSignal) != 0; }
  bool is_io() const { return !is_signal() && (what & (kRead | kWrite | kClosed)) != 0; }
  EventKind kind() const {
    if (internal) return EventKind::kInternal;
    if (is_signal()) return EventKind::kSignal;
    if (is_io()) return EventKind::kIo;
    return EventKind::kTimer;
  }
  EventState state() const {
    if (active) return EventState::kActive;
    if (inserted) return EventState::kPending;
    return EventState::kInitialized;
  }
};

}  // namespace reactor::detail
