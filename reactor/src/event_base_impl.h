// EventBaseImpl: the state behind one EventBase and the O(1)/O(log n) operations on it. The
// public EventBase and Event methods check arguments and threads, then call in here.
//
// Files: event_base_impl.cc (registration: add/del/activate, the fd map, timers), event_loop.cc
// (the loop and its phase order), inspection.cc (snapshot/counts). Its field groups with a
// life of their own are classes: PostQueue (post_queue.h: post() and its wakeup eventfd),
// SignalPipe (signal_pipe.h: the signal self-pipe and signo → events), LoopTiming
// (loop_timing.h: LoopStats and the cycle clock).
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loop_timing.h"
#include "poller.h"
#include "post_queue.h"
#include "reactor/detail/event_core.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/inspection.h"
#include "reactor/sys_calls.h"
#include "signal_pipe.h"
#include "timer_heap.h"

namespace reactor::detail {

// An intrusive FIFO of active events (links: EventCore::active_prev/next). Inline: every
// readiness goes through push_back and pop_front once.
struct ActiveQueue {
  EventCore* head = nullptr;
  EventCore* tail = nullptr;
  bool empty() const { return head == nullptr; }
  void push_back(EventCore* ev) {
    ev->active_next = nullptr;
    ev->active_prev = tail;
    if (tail)
      tail->active_next = ev;
    else
      head = ev;
    tail = ev;
  }
  void erase(EventCore* ev) {
    if (ev->active_prev)
      ev->active_prev->active_next = ev->active_next;
    else
      head = ev->active_next;
    if (ev->active_next)
      ev->active_next->active_prev = ev->active_prev;
    else
      tail = ev->active_prev;
    ev->active_prev = ev->active_next = nullptr;
  }
  EventCore* pop_front() {
    EventCore* ev = head;
    if (ev) erase(ev);
    return ev;
  }
};

struct EventBaseImpl {
  EventBaseImpl(EventBase* owner, const EventBaseConfig& config);
  ~EventBaseImpl();
  EventBaseImpl(const EventBaseImpl&) = delete;
  EventBaseImpl& operator=(const EventBaseImpl&) = delete;

  // --- registration (event_base_impl.cc) ---
  // A new Event or IoEvent (their one constructor path): its callback, fd and flags, then an
  // id, the loose list and the default priority.
  void attach(EventCore* ev, int fd, EventFlags what, EventFunction fn, void* arg);
  // ~Event / ~IoEvent: del + leave the loose list, drop its tag. Nothing when the base went
  // first (the event is detached); else loop thread only.
  static void destroy_if_attached(EventCore* ev);
  // timeout: none, a plain duration, or a common-timeout queue index (1-based; 0 = none).
  void add(EventCore* ev, std::optional<Duration> timeout, std::uint32_t common);
  void del(EventCore* ev);
  // Inline: once per ready fd (activate_fd).
  void activate(EventCore* ev, EventFlags flags) {
    if (ev->active) {
      ev->fired |= flags;
      return;
    }
    ev->active = true;
    ev->fired = flags;
    // An event that already ran in this pass waits for the next iteration, so that an event
    // re-activating itself (or two activating each other) cannot starve I/O and timers.
    if (processing && ev->ran_in_pass == pass) {
      ev->in_later = true;
      later.push_back(ev);
    } else {
      active[ev->priority].push_back(ev);
      ++n_active;
    }
    // retally(), worked out for an event that was not active: it becomes live unless it was
    // already (pending) or is internal. One test of two bits instead of live() before and
    // after (once per ready fd, issue #19).
    if (!ev->internal && !ev->inserted) ++n_user_live;
  }
  // The poller found `fd` ready for `what` (kRead / kWrite / kClosed): each event on it
  // interested in what fired becomes active. Inline: the backends call it once per ready fd,
  // from their loop over the kernel's answer (Poller::activate_ready).
  void activate_fd(int fd, EventFlags what) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= fd_heads.size()) return;
    for (EventCore* ev = fd_heads[fd]; ev; ev = ev->fd_next) {
      const EventFlags hit = ev->what & what & (kRead | kWrite | kClosed);
      if (any(hit)) activate(ev, hit);
    }
  }
  void set_priority(EventCore* ev, int priority);
  void set_internal(EventCore* ev, bool internal);
  std::uint32_t common_queue_for(Duration d);  // 1-based index, created on first use
  TimePoint now() const { return cached_now ? *cached_now : read_clock(); }
  // The base's clock (EventBaseConfig::precise_timer): CLOCK_MONOTONIC or its coarse twin,
  // through the SysCalls seam so that a test can step time (tests/support/manual_clock.h).
  TimePoint read_clock() const {
    timespec ts;
    sys().clock_gettime(clock_id, &ts);
    return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                 std::chrono::nanoseconds(ts.tv_nsec)));
  }
  bool in_loop_thread() const {
    return loop_thread.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }
  void assert_in_loop_thread() const;

  // --- loop (event_loop.cc) ---
  LoopResult loop(LoopFlags flags);
  void request_exit(std::optional<Duration> delay);  // loop thread
  void request_break() { break_requested = true; }   // loop thread

  // --- fork (event_base_impl.cc) ---
  void reinit();

  // --- inspection (inspection.cc) ---
  std::vector<EventInfo> snapshot() const;
  EventCounts counts() const;
  // Owner and label: from the side table (Event::set_owner/set_label), else from the
  // describer registered for the event's callback function (register_describer).
  EventTag tag_of(const EventCore* ev) const;
  EventTag& tag_slot(EventCore* ev);  // creates the side-table entry
  // Every event of the base once: the fd table, the signal table, the loose list. f may not
  // add, remove or destroy events.
  template <class F>
  void for_each_event(F&& f) const {
    for (EventCore* head : fd_heads) {
      for (EventCore* ev = head; ev; ev = ev->fd_next) f(ev);
    }
    signals.for_each_event(f);
    for (EventCore* ev = loose; ev; ev = ev->fd_next) f(ev);
  }

  // Helpers.
  bool live(const EventCore* ev) const { return !ev->internal && (ev->inserted || ev->active); }
  void retally(const EventCore* ev, bool was_live) {
    bool is = live(ev);
    if (is != was_live) n_user_live += is ? 1 : -1;
  }
  void io_link(EventCore* ev);
  void io_unlink(EventCore* ev);
  void loose_link(EventCore* ev);  // events in neither the fd nor the signal table
  void loose_unlink(EventCore* ev);
  EventFlags fd_interest(int fd) const;
  void schedule(TimedEventCore* ev, TimePoint deadline);
  void unschedule(EventCore* ev);
  void remove_active(EventCore* ev);
  std::optional<TimePoint> earliest_deadline() const;
  void expire_timers(TimePoint now);
  int run_active();  // returns how many user callbacks ran
  // Inline: called every iteration, and almost always with nothing to delete.
  void run_deferred_deletes() {
    if (!deferred.empty()) delete_deferred();
  }
  void delete_deferred();
  void move_later_to_active();
  bool alive() const;

  EventBase* self;
  Backend backend_kind;
  clockid_t clock_id = CLOCK_MONOTONIC;
  std::unique_ptr<Poller> poller;
  int priorities = 1;
  std::atomic<std::thread::id> loop_thread;

  // Events in neither fd_heads nor signals (not added, or pure timers), linked through
  // their fd links: with those two tables, every event of the base.
  EventCore* loose = nullptr;
  std::uint64_t next_id = 1;
  // Owner / label of events tagged one by one (Event::set_owner / set_label; EventCore::tagged).
  std::unordered_map<const EventCore*, EventTag> tags;

  std::vector<EventCore*> fd_heads;  // fd → events on it
  SignalPipe signals;                // signo → events on it, and the pipe that wakes them

  TimerHeap heap;
  std::vector<CommonQueue> common;

  std::vector<ActiveQueue> active;  // one per priority, 0 most urgent
  ActiveQueue later;                // re-activated in the pass they already ran in
  std::size_t n_active = 0;         // in `active` (not `later`)
  std::size_t n_user_live = 0;      // non-internal events pending or active

  // Loop state.
  std::atomic<bool> running{false};  // read by loopexit/loopbreak from any thread
  bool processing = false;           // inside the callback phase
  bool exit_requested = false;       // sticky until a loop consumes it
  bool break_requested = false;
  bool continue_requested = false;
  bool got_exit_flag = false;
  bool got_break_flag = false;
  std::uint8_t pass = 0;  // EventCore::ran_in_pass's width
  std::optional<TimePoint> cached_now;
  LoopTiming timing;

  PostQueue posts;  // post(): the one door from other threads

  // Base-owned events: once() events by id, and the loopexit(delay) timer.
  std::unordered_map<std::uint64_t, std::unique_ptr<Event>> once_events;
  std::unique_ptr<Event> exit_timer;
  std::vector<std::unique_ptr<DeferredDeletable>> deferred;
};

}  // namespace reactor::detail
