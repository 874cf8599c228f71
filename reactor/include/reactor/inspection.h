// Value types that describe a base from the outside: what the control plane shows. They are
// copied on the loop thread (EventBase::snapshot / stats) and can then travel to any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reactor/clock.h"
#include "reactor/event_flags.h"

namespace reactor {

// libevent's life cycle: event_new → initialized; event_add → pending; ready → active.
enum class EventState { kInitialized, kPending, kActive };
// kInternal: events the base or a library object uses for itself (wakeup eventfd, signal pipe).
// GCC 12's -Wshadow takes the scoped enumerator kSignal for a copy of the flag reactor::kSignal
// (event_flags.h), although EventKind::kSignal is only ever found qualified.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
enum class EventKind { kIo, kSignal, kTimer, kInternal };
#pragma GCC diagnostic pop

const char* to_string(EventState state);
const char* to_string(EventKind kind);

struct EventInfo {
  std::uint64_t id = 0;  // unique in the base, never reused
  EventKind kind = EventKind::kIo;
  int fd = -1;             // fd for io events, -1 otherwise
  int signal = 0;          // signal number for signal events, 0 otherwise
  EventFlags requested{};  // flags given at creation
  EventState state = EventState::kInitialized;
  EventFlags fired{};  // what made it active (kActive only)
  int priority = 0;
  std::optional<Duration> time_left;  // until its timeout, if one is scheduled
  std::string label;                  // set by its creator: "listener", "conn.read", ...
  std::uint64_t owner = 0;            // owner tag, e.g. a connection id; 0 = none
};

// libevent's event_base_get_num_events(ADDED / ACTIVE / VIRTUAL) and then some.
struct EventCounts {
  std::size_t initialized = 0;  // created, not added
  std::size_t pending = 0;      // added, waiting (internal events included)
  std::size_t active = 0;       // in an active queue
  std::size_t internal = 0;     // of all the above, kInternal ones
  std::vector<std::size_t> active_per_priority;
};

// A fixed log-scale histogram of durations, cheap enough to fill on the loop thread.
struct DurationHistogram {
  // Upper bounds in microseconds; the last bucket is +Inf.
  static constexpr std::array<std::int64_t, 11> kBoundsUs = {1,    4,     16,    64,     256,    1000,
                                                             4000, 16000, 64000, 256000, 1000000};
  std::array<std::uint64_t, kBoundsUs.size() + 1> counts{};
  Duration sum{0};
  std::uint64_t total = 0;

  void record(Duration d);
};

struct LoopStats {
  std::uint64_t iterations = 0;
  std::uint64_t callbacks = 0;  // user callbacks run
  Duration poll_wait{0};        // time blocked in epoll_wait / poll
  Duration callback_time{0};    // time in callbacks
  Duration longest_callback{0};
  std::uint64_t posts = 0;          // functions handed to post()
  std::uint64_t wakeup_writes = 0;  // eventfd writes (only when the post queue was empty)
  // post()'s eventfd write or the loop's read of it failed (not EAGAIN: a full counter is
  // readable already). A failed write is retried by the next post() and by the loop's next
  // iteration, so nothing posted is stranded.
  std::uint64_t wakeup_errors = 0;
  // The signal self-pipe: the handler's write (not EAGAIN: a full pipe wakes the loop anyway)
  // or the loop's read failed.
  std::uint64_t signal_pipe_errors = 0;
  // Reads of the base's clock. With CLOCK_MONOTONIC and no timer due within 2 ms, the time
  // after a poll is the last read plus the TSC ticks since, for up to 1 ms: at one message per
  // wakeup far fewer reads than iterations.
  std::uint64_t clock_reads = 0;
  DurationHistogram poll_wait_histogram;
  DurationHistogram callback_histogram;
};

}  // namespace reactor
