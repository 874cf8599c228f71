// The loop. Phase order of one iteration of loop() (compare libuv's uv_run):
//
//   1. Exit check. A pending loopbreak ends the loop (got_break), then a pending loopexit
//      (got_exit). Both are sticky: a request made while no loop runs ends the next one.
//   2. Events re-activated in the pass they already ran in (the "later" list) join their
//      active queues, so they run in this iteration.
//   3. Liveness. With no user event pending or active, no loopexit timer, no posted function
//      and no deferred deletion, the loop returns kNoEvents (unless kLoopNoExitOnEmpty). Internal events
//      (wakeup eventfd, signal pipe) do not keep a loop alive.
//   4. Poll. Timeout: 0 if anything is active or kLoopNonblock, else until the earliest timer
//      (heap top and the head of each common-timeout queue), else forever. Time spent blocked
//      goes to stats().poll_wait. The epoll backend waits for a timer 50 ms or more away on a
//      timerfd instead (epoll_poller.cc says why); it may then wake early once, with nothing
//      ready, when that timer was moved later.
//   5. Cache the time (now()) once; it is also the start of the callback phase. This is the
//      iteration's only clock read, skipped when no timer is due within 2 ms: the time is then
//      the last read plus the TSC ticks since, for up to 1 ms (loop_timing.h). Durations (poll
//      wait, callbacks) are TSC ticks.
//   6. Ready batch → activations: every ready fd is looked up in the fd map and each event
//      interested in what fired becomes active, for the WHOLE batch, before any callback
//      runs; the backend walks the kernel's answer itself (Poller::activate_ready). This is
//      the per-batch invalidation: from then on readiness lives only in the active queues,
//      and del()/~Event removes an event from its queue, so an event deleted or destroyed by
//      an earlier callback of the same batch never runs on stale readiness.
//   7. Expired timers (heap and common queues, in deadline order) become active with kTimeout.
//      The walk is skipped when the earliest deadline, worked out in 4 for the timeout, is not
//      due (no callback ran since: no timer can have been added).
//   8. Callbacks: always the head of the most urgent non-empty priority queue, re-chosen after
//      every callback, so a more urgent event activated by a callback runs next. Before each
//      callback a non-persistent event is deleted (no longer pending: it may re-add itself);
//      a kPersist event with a timeout gets its timeout restarted. loopbreak stops after the
//      current callback; loopcontinue stops the pass and polls again. The internal wakeup
//      event runs the post() queue here; the signal pipe event activates signal events.
//      One TSC read per callback times it for stats() (cycle_clock.h): the end of one
//      callback is the start of the next.
//   9. Deferred deletions (defer_delete) run, after every callback of the pass.
//  10. Exit check again; kLoopNonblock stops after one pass, kLoopOnce after a pass that ran
//      at least one user callback or posted function.
#include <stdexcept>

#include "event_base_impl.h"

namespace reactor::detail {
namespace {

// Clears `running` and the time cache on every way out of loop(), exceptions included.
struct RunningGuard {
  EventBaseImpl& base;
  ~RunningGuard() {
    base.running = false;
    base.processing = false;
    base.cached_now.reset();
  }
};

}  // namespace

bool EventBaseImpl::alive() const {
  if (n_user_live > 0 || n_active > 0 || !later.empty() || !deferred.empty()) return true;
  if (exit_timer && exit_timer->state() != EventState::kInitialized) return true;
  return posts.has_posted();
}

std::optional<TimePoint> EventBaseImpl::earliest_deadline() const {
  std::optional<TimePoint> earliest;
  if (const TimedEventCore* top = heap.top()) earliest = top->deadline;
  for (const CommonQueue& q : common) {
    if (q.head && (!earliest || q.head->deadline < *earliest)) earliest = q.head->deadline;
  }
  return earliest;
}

void EventBaseImpl::expire_timers(TimePoint now) {
  // Expired timers become active in deadline order across the heap and the common queues, so
  // a 5 ms common timeout still runs before a 10 ms heap timer when both expired during one
  // long poll (or while the thread was descheduled). Common queues are few: a linear pick.
  for (;;) {
    TimedEventCore* next = heap.top();
    for (const CommonQueue& q : common) {
      if (q.head && (!next || q.head->deadline < next->deadline)) next = q.head;
    }
    if (!next || next->deadline > now) break;
    unschedule(next);
    activate(next, kTimeout);
  }
}

int EventBaseImpl::run_active() {
  int user_ran = 0;
  processing = true;
  while (n_active > 0 && !break_requested && !continue_requested) {
    EventCore* ev = nullptr;
    for (ActiveQueue& q : active) {
      if (!q.empty()) {
        ev = q.pop_front();
        // The new head is likely the next to run: start loading the line that holds its
        // callback now, so that miss overlaps this callback instead of following it.
        if (q.head) __builtin_prefetch(&q.head->fn);
        break;
      }
    }
    --n_active;
    ev->active = false;
    const EventFlags fired = ev->fired;
    ev->fired = {};
    ev->ran_in_pass = pass;
    // retally(), worked out for an event that was active: it stops being live unless it is
    // still pending or is internal (once per callback, issue #19).
    if (!ev->internal && !ev->inserted) --n_user_live;
    if (any(ev->what & kPersist)) {
      if (ev->has_timeout) {  // never set on an event without a timer part
        // The timeout restarts at each activation. After a timeout, step from the old
        // deadline so that a periodic timer does not drift.
        TimedEventCore* t = timed(ev);
        TimePoint base_time = *cached_now;
        if (any(fired & kTimeout) && t->deadline + t->timeout > base_time) {
          base_time = t->deadline;
        }
        unschedule(t);
        schedule(t, base_time + t->timeout);
      }
    } else {
      // Not pending while its callback runs: the callback may add() it again.
      del(ev);
    }
    const bool once = ev->is_once;
    const bool user = !ev->internal;
    const std::uint64_t id = ev->id;
    posts.reset_ran();
    ev->fn(ev->fd, fired, ev->arg);
    // ev may be gone now (an internal event's callback may run code that frees things).
    if (once) once_events.erase(id);
    const int work = (user ? 1 : 0) + posts.ran();
    timing.end_callback([this] { return read_clock(); }, work);
    user_ran += work;
  }
  processing = false;
  return user_ran;
}

void EventBaseImpl::delete_deferred() {
  // A destructor may defer more deletions: repeat until none are left.
  while (!deferred.empty()) {
    std::vector<std::unique_ptr<DeferredDeletable>> batch;
    batch.swap(deferred);
    batch.clear();
  }
}

void EventBaseImpl::request_exit(std::optional<Duration> delay) {
  if (!delay) {
    exit_requested = true;
    return;
  }
  if (!exit_timer) {
    exit_timer =
        std::make_unique<Event>(*self, -1, EventFlags{}, [this](int, EventFlags) { exit_requested = true; });
    exit_timer->set_internal(true);
    exit_timer->set_label("loopexit");
  }
  // Several delayed exits: the earliest wins.
  std::optional<Duration> left;
  if (any(exit_timer->pending(kTimeout, &left)) && left && *left <= *delay) return;
  exit_timer->add(*delay);
}

LoopResult EventBaseImpl::loop(LoopFlags flags) {
  if (running) throw std::logic_error("reactor: EventBase::loop is not re-entrant");
  loop_thread.store(std::this_thread::get_id(), std::memory_order_relaxed);
  running = true;
  got_exit_flag = got_break_flag = false;
  RunningGuard guard{*this};

  auto consume_exit = [this] {
    if (break_requested) {
      break_requested = false;
      got_break_flag = true;
      return true;
    }
    if (exit_requested) {
      exit_requested = false;
      got_exit_flag = true;
      return true;
    }
    return false;
  };

  for (;;) {
    continue_requested = false;
    if (consume_exit()) return LoopResult::kExited;  // 1
    // A post() whose eventfd write failed: its functions run now, whatever woke the loop.
    posts.run_if_wakeup_failed();
    if (!later.empty()) move_later_to_active();                                   // 2
    if (!(flags & kLoopNoExitOnEmpty) && !alive()) return LoopResult::kNoEvents;  // 3

    ++pass;
    // 4. Poll.
    // At most one clock read per iteration, after the poll. The time before it (for the timeout
    // and the poll_wait statistics) is the last time plus the TSC ticks since (loop_timing.h).
    const TimePoint before = timing.start_poll([this] { return read_clock(); });
    // The kernel's CLOCK_MONOTONIC, not the coarse clock (it lags the instant by up to a tick)
    // nor a test's clock (a SysCalls installed, tests/support/manual_clock.h).
    const bool precise_clock = clock_id == CLOCK_MONOTONIC && installed_sys_calls() == nullptr;
    std::optional<Duration> timeout;
    std::optional<TimePoint> wake_at;  // the timer's instant, for a backend that can wait for it
    // The earliest timer's deadline, when the timeout was worked out from it. Nothing between
    // here and step 7 runs a callback, so no timer can be added or moved meanwhile: step 7
    // walks the timers only if it is due (issue #19: a walk of the heap and the common queues
    // per iteration less).
    std::optional<TimePoint> deadline;
    bool deadline_known = false;
    if (n_active > 0 || (flags & kLoopNonblock)) {
      timeout = Duration::zero();
    } else {
      deadline = earliest_deadline();
      deadline_known = true;
      if (deadline) {
        timeout = *deadline > before ? std::chrono::ceil<Duration>(*deadline - before) : Duration::zero();
        // Only on the kernel's precise clock (precise_clock, above).
        if (precise_clock) wake_at = deadline;
      }
    }
    cached_now.reset();
    poller->wait(timeout, wake_at);
    // 5. The time may be extrapolated from the last clock read (LoopTiming::end_poll) when no
    // timer is due within kNoTimerWithin of the poll's start: then no timer can become due in
    // this iteration, whatever the few nanoseconds the extrapolation is off by.
    const bool no_timer_near =
        deadline_known && (!deadline || *deadline - before > LoopTiming::kNoTimerWithin);
    const TimePoint after = timing.end_poll([this] { return read_clock(); }, precise_clock, no_timer_near);
    cached_now = after;

    poller->activate_ready(*this);  // 6
    // 7: only when a timer is due (see the top).
    if (!deadline_known || (deadline && *deadline <= after)) expire_timers(after);
    const int ran = run_active();  // 8
    run_deferred_deletes();        // 9

    if (consume_exit()) return LoopResult::kExited;  // 10
    if (flags & kLoopNonblock) return LoopResult::kExited;
    if ((flags & kLoopOnce) && ran > 0) return LoopResult::kExited;
  }
}

}  // namespace reactor::detail
