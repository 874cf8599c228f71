// EventCore: the state of one Event, held in place inside it (as libevent's struct event
// holds its own links): no second allocation per event, and the loop's hot paths (timer heap,
// active queues, fd lists) touch one cache line fewer per event than through a pointer.
// Not part of the API: only reactor/src uses the fields.
//
// An EventCore sits in up to three intrusive structures at once, each with its own links, so
// that every transition is O(1) (or O(log n) for the timer heap) and allocates nothing:
//   fd/signal     the events interested in one fd, or in one signal number; every other event
//                 (not added, or a pure timer) sits in the base's "loose" list on the same
//                 links — so walking the fd table, the signal table and the loose list visits
//                 every event once (snapshot, teardown) without an all-events link per event
//   timer         the min-heap (heap_index) or one common-timeout FIFO (timer_prev/next);
//                 only events with a timer part (TimedEventCore: every Event) get there
//   active        one priority's active queue, or the "active later" list
//
// Memory (issue #19): 80 bytes, 112 with the timer part (TimedEventCore). The callback is what libevent
// stores, a function pointer and its argument (a std::function passed by a caller lives in an adapter the
// Event owns); owner and label are not stored here: a callback's owner describes its events (BufferEvent), or
// the base keeps them in a side table for the few events tagged one by one.
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
// libevent's event_callback_fn: a function pointer and its argument (16 bytes, no allocation).
using EventFunction = void (*)(int fd, EventFlags fired, void* arg);

}  // namespace reactor

namespace reactor::detail {

struct EventBaseImpl;

// What inspection shows as an event's owner and label.
struct EventTag {
  std::uint64_t owner = 0;
  const char* label = nullptr;
};
// Tells the owner and label of an event whose callback is a given function, from its
// argument: an object with many events (a BufferEvent) keeps one owner for all of them
// instead of 16 bytes in each event. Registered once per function (register_describer).
using EventDescriber = EventTag (*)(EventFunction fn, const void* arg);
// Any thread, idempotent; at most 16 functions (std::logic_error beyond).
void register_describer(EventFunction fn, EventDescriber describe);

// An event without a timer part: heap_index holds this, and no timeout may be added to it.
inline constexpr std::int32_t kNoTimerPart = -2;

struct EventCore {
  // Field order is by use, so that an operation touches as few cache lines of a cold event
  // as possible: running a callback starts at the front (fn, arg), activating an event
  // touches the last 40 bytes (active links, base, flags), and a timer operation those last
  // 24 and the timer part right after them (TimedEventCore).
  // 80 bytes (static_assert in event.cc).
  //
  // The callback. A std::function given to Event lives in an adapter: fn is then
  // call_function (event.cc) and arg the heap EventCallback, freed with the event.
  EventFunction fn = nullptr;
  void* arg = nullptr;
  EventCore* fd_prev = nullptr;  // events on the same fd / signal, or the base's loose list
  EventCore* fd_next = nullptr;
  std::uint64_t id = 0;              // unique in the base, never reused
  EventCore* active_prev = nullptr;  // the active queue of its priority, or "later"
  EventCore* active_next = nullptr;
  EventBaseImpl* base = nullptr;  // nullptr once the base was destroyed (the event is detached)
  std::int32_t fd = -1;           // fd, or signal number for signal events
  // Position in the timer heap, -1 when not there; kNoTimerPart: a plain EventCore (no
  // TimedEventCore around it), which never gets a timeout.
  std::int32_t heap_index = kNoTimerPart;
  EventFlags what{};   // flags requested at creation
  EventFlags fired{};  // flags accumulated while active
  // 0: heap timer; n: common-timeout queue n-1 (libevent allows 256 queues; we 255, more
  // durations use the heap).
  std::uint8_t common = 0;
  // Pass stamp, low 8 bits: re-activation in the pass it ran in waits for the next
  // iteration. A stamp 256 passes old only delays such an activation by one iteration.
  std::uint8_t ran_in_pass = 0;
  std::uint8_t priority = 0;

  // State bits. inserted = pending (registered with backend / signal map and/or a timer).
  bool inserted : 1 = false;
  bool has_timeout : 1 = false;  // add() was given a timeout (kept for kPersist)
  bool in_timer : 1 = false;
  bool active : 1 = false;
  bool in_later : 1 = false;  // active, but parked until the next iteration
  bool internal : 1 = false;
  bool is_once : 1 = false;  // owned by the base (EventBase::once)
  bool tagged : 1 = false;   // owner / label in the base's side table

  bool has_timer_part() const { return heap_index != kNoTimerPart; }
  bool is_signal() const { return any(what & kSignal); }
  bool is_io() const { return !is_signal() && any(what & (kRead | kWrite | kClosed)); }
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

// An event that can have a timeout: every Event. 112 bytes. The base reaches the timer part
// only through an event with has_timer_part() (in_timer and has_timeout are never set on
// any other), so an fd event that never has a timeout can be a plain EventCore, 32 bytes
// less: a BufferEvent's read event (its read timeout, rarely set, is a timer of its own).
struct TimedEventCore : EventCore {
  TimedEventCore() { heap_index = -1; }
  TimePoint deadline{};                  // when the scheduled timeout expires (valid while in_timer)
  TimedEventCore* timer_prev = nullptr;  // common-timeout FIFO links
  TimedEventCore* timer_next = nullptr;
  Duration timeout{0};  // the duration last given to add() (kPersist events only)
};

// The timer part of an event that has one (has_timer_part()).
inline TimedEventCore* timed(EventCore* ev) { return static_cast<TimedEventCore*>(ev); }
inline const TimedEventCore* timed(const EventCore* ev) { return static_cast<const TimedEventCore*>(ev); }

}  // namespace reactor::detail
