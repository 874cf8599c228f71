// EventBase: libevent's struct event_base. One per thread; it runs the loop, owns the backend
// (epoll or poll), the timers, the signal plumbing and the cross-thread post() queue.
//
// Thread rule: an EventBase and everything registered on it belong to the loop thread — the
// thread that constructed it, or the one that last entered loop(). Other threads reach it
// only through the methods marked "any thread" (post, loopexit, loopbreak, in_loop_thread).
// Debug builds assert the rule.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reactor/clock.h"
#include "reactor/event.h"
#include "reactor/event_flags.h"
#include "reactor/inspection.h"

namespace reactor {

// kEpoll honours kET and scales with the number of fds; kPoll is level-triggered only (kET
// ignored), for portability checks and tests.
enum class Backend { kEpoll, kPoll };
const char* to_string(Backend backend);

struct EventBaseConfig {
  // Backend to use. Unset: epoll, unless the environment says REACTOR_BACKEND=poll or
  // REACTOR_NOEPOLL is set (libevent's EVENT_NOEPOLL).
  std::optional<Backend> backend;
  // event_base_priority_init: number of priority levels (>= 1).
  int priorities = 1;
  // EVENT_BASE_FLAG_PRECISE_TIMER. true (our default): every time the base reads —
  // deadlines of add() outside a callback, the per-iteration cached time, callback timings —
  // comes from CLOCK_MONOTONIC, so a timer never fires before its timeout has passed. false
  // (libevent's default): CLOCK_MONOTONIC_COARSE, which costs ~5 ns instead of ~25 and does
  // not serialize the CPU (the precise read fences the TSC, so a burst of add() calls on cold
  // events cannot overlap their cache misses); the price is one kernel tick of resolution
  // (1–10 ms; see clock_getres): timers fire up to a tick early or late, and callback timings
  // in stats() are in ticks. Both clocks count from the same origin: now() stays comparable
  // with Clock::now().
  bool precise_timer = true;
};

// Loop flags for loop(): libevent's EVLOOP_*.
using LoopFlags = unsigned;
inline constexpr LoopFlags kLoopOnce = 0x01;           // EVLOOP_ONCE
inline constexpr LoopFlags kLoopNonblock = 0x02;       // EVLOOP_NONBLOCK
inline constexpr LoopFlags kLoopNoExitOnEmpty = 0x04;  // EVLOOP_NO_EXIT_ON_EMPTY

enum class LoopResult {
  kExited,    // loopexit/loopbreak, or ONCE/NONBLOCK finished its pass (libevent: 0)
  kNoEvents,  // nothing left pending or active (libevent: 1)
};

// A duration registered with init_common_timeout(): timers that use it go into an O(1)
// FIFO queue instead of the heap (libevent's common timeouts).
struct CommonTimeout {
  Duration duration{0};
  std::uint32_t index = 0;
};

// An object the base destroys at the end of the current iteration (see defer_delete).
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};

namespace detail {
struct EventBaseImpl;
class IoEvent;
}  // namespace detail

class EventBase {
 public:
  // event_base_new / event_base_new_with_config. Throws std::system_error if the backend
  // cannot be created. Any thread (the constructing thread becomes the loop thread).
  explicit EventBase(EventBaseConfig config = {});
  // event_base_free. Events still registered are detached (they stay valid objects but are
  // no longer pending); posted functions not yet run are destroyed without running.
  // Loop thread only, and never from inside loop().
  ~EventBase();
  EventBase(const EventBase&) = delete;
  EventBase& operator=(const EventBase&) = delete;

  // event_base_dispatch: loop(0). Loop thread only.
  LoopResult dispatch();
  // event_base_loop. Runs until loopexit/loopbreak, or until no events are pending (unless
  // kLoopNoExitOnEmpty), or one pass for kLoopOnce (blocks for the first events) and
  // kLoopNonblock (does not block). Not re-entrant. Loop thread only.
  LoopResult loop(LoopFlags flags = 0);

  // event_base_loopexit(base, delay): callbacks running now finish, then the loop ends once
  // the active queue is done (after `delay`, if given). A request made while the loop is not
  // running is kept and ends the next loop() — libevent loses it; we do not. Any thread.
  void loopexit(std::optional<Duration> delay = std::nullopt);
  // event_base_loopbreak: the loop ends right after the callback that is running now. Like
  // loopexit, sticky when the loop is not running. Any thread.
  void loopbreak();
  // event_base_loopcontinue: stop processing active events in this pass and poll again.
  // Loop thread only.
  void loopcontinue();
  // event_base_got_exit / got_break: whether the last loop() ended through them (reset when
  // loop() starts). Loop thread only.
  bool got_exit() const;
  bool got_break() const;

  // event_base_once: a one-shot event the base owns and frees after it runs. fd = -1 and
  // flags = 0 for a timer. kPersist and kSignal are refused (std::invalid_argument). Loop
  // thread only.
  void once(int fd, EventFlags what, std::optional<Duration> timeout, Event::Callback cb);

  // The one thread-safe entry point: run fn on the loop thread, in this or the next iteration.
  // Functions run in the order posted. The eventfd is written only when the queue goes from
  // empty to non-empty. A posted function may post again (it runs in the next batch).
  // Any thread.
  void post(std::function<void()> fn);

  // Destroy obj at the end of the current iteration, after every callback of this pass has run
  // (Envoy's deferredDelete). The way to "delete yourself" from a callback. Loop thread only.
  void defer_delete(std::unique_ptr<DeferredDeletable> obj);
  template <typename T>
  void defer_delete(std::unique_ptr<T> obj) {
    struct Holder : DeferredDeletable {
      explicit Holder(std::unique_ptr<T> owned) : p(std::move(owned)) {}
      std::unique_ptr<T> p;
    };
    defer_delete(std::unique_ptr<DeferredDeletable>(new Holder(std::move(obj))));
  }

  // event_base_init_common_timeout: registers a duration for O(1) timers. Asking twice for the
  // same duration returns the same queue. Loop thread only.
  CommonTimeout init_common_timeout(Duration duration);

  // event_reinit: after fork(), in the child, re-create the backend, the wakeup eventfd and
  // the signal pipe, and re-register every pending event. The parent's epoll set is never
  // touched. Throws std::system_error if a registered fd cannot be re-added (closed without
  // del()). Loop thread only (the child's).
  void reinit();

  // event_base_priority_init: change the number of priority levels. Refused
  // (std::logic_error) while any event is active. Loop thread only.
  void set_priorities(int priorities);
  int priorities() const;

  // event_base_gettimeofday_cached: the time cached at the start of this iteration's callback
  // phase (the real time when not in the loop). Loop thread only.
  // Inline: a BufferEvent and reactord's idle list read it several times per message.
  TimePoint now() const {
    assert_in_loop_thread();
    return cached_now_->has_value() ? **cached_now_ : clock_now();
  }

  // event_base_get_method. Any thread.
  Backend backend() const;
  const char* backend_name() const;

  // event_base_foreach_event, as values: every event created on this base (initialized ones
  // included), ordered by id. Loop thread only — other threads post() a copy out.
  std::vector<EventInfo> snapshot() const;
  // event_base_get_num_events. Loop thread only.
  EventCounts counts() const;
  // Loop instrumentation: iterations, poll wait, callback time. Loop thread only.
  LoopStats stats() const;

  // The application's pointer for this base: per-loop state that whatever knows the base
  // finds without a pointer of its own (reactord's ConnectionContext: 8 bytes less per
  // connection). Not libevent's (it has none: a libevent program keeps a map or a wrapper);
  // the base never reads or frees it. nullptr until set. Loop thread only (not checked: a
  // plain field, read on every echo).
  void set_user_data(void* data) { user_data_ = data; }
  void* user_data() const { return user_data_; }

  // Whether the calling thread is this base's loop thread. Any thread.
  bool in_loop_thread() const;
  // Aborts with a message in debug builds when called off the loop thread; free in release
  // (inline: no call either). Any thread.
  void assert_in_loop_thread() const {
#ifndef NDEBUG
    check_loop_thread();
#endif
  }

 private:
  friend class Event;
  friend class detail::IoEvent;
  // now() outside the loop's callback phase: reads the clock.
  TimePoint clock_now() const;
  // assert_in_loop_thread's check (defined whatever NDEBUG is when the library is built).
  void check_loop_thread() const;
  void* user_data_ = nullptr;  // before impl_: still there while impl_'s destructor runs
  // The time cached for this iteration's callback phase (the impl's; empty outside it), read
  // by the inline now().
  const std::optional<TimePoint>* cached_now_ = nullptr;
  std::unique_ptr<detail::EventBaseImpl> impl_;
};

}  // namespace reactor
