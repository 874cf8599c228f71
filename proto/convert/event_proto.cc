#include "event_proto.h"

#include "reactor/event_flags.h"

namespace reactord {

v1::EventState to_proto(reactor::EventState state) {
  switch (state) {
    case reactor::EventState::kInitialized:
      return v1::EVENT_STATE_INITIALIZED;
    case reactor::EventState::kPending:
      return v1::EVENT_STATE_PENDING;
    case reactor::EventState::kActive:
      return v1::EVENT_STATE_ACTIVE;
  }
  return v1::EVENT_STATE_UNSPECIFIED;
}

v1::EventKind to_proto(reactor::EventKind kind) {
  switch (kind) {
    case reactor::EventKind::kIo:
      return v1::EVENT_KIND_IO;
    case reactor::EventKind::kSignal:
      return v1::EVENT_KIND_SIGNAL;
    case reactor::EventKind::kTimer:
      return v1::EVENT_KIND_TIMER;
    case reactor::EventKind::kInternal:
      return v1::EVENT_KIND_INTERNAL;
  }
  return v1::EVENT_KIND_UNSPECIFIED;
}

std::optional<reactor::EventState> from_proto(v1::EventState state) {
  switch (state) {
    case v1::EVENT_STATE_INITIALIZED:
      return reactor::EventState::kInitialized;
    case v1::EVENT_STATE_PENDING:
      return reactor::EventState::kPending;
    case v1::EVENT_STATE_ACTIVE:
      return reactor::EventState::kActive;
    default:
      return std::nullopt;
  }
}

std::optional<reactor::EventKind> from_proto(v1::EventKind kind) {
  switch (kind) {
    case v1::EVENT_KIND_IO:
      return reactor::EventKind::kIo;
    case v1::EVENT_KIND_SIGNAL:
      return reactor::EventKind::kSignal;
    case v1::EVENT_KIND_TIMER:
      return reactor::EventKind::kTimer;
    case v1::EVENT_KIND_INTERNAL:
      return reactor::EventKind::kInternal;
    default:
      return std::nullopt;
  }
}

void to_proto(const reactor::EventInfo& e, unsigned loop, v1::Event* out) {
  out->set_id(e.id);
  out->set_loop(loop);
  out->set_kind(to_proto(e.kind));
  out->set_fd(e.fd);
  out->set_signal(e.signal);
  out->set_requested(reactor::flags_to_string(e.requested));
  out->set_state(to_proto(e.state));
  if (e.state == reactor::EventState::kActive) out->set_fired(reactor::flags_to_string(e.fired));
  out->set_priority(e.priority);
  if (e.time_left) out->set_time_left_us(e.time_left->count());
  out->set_label(e.label);
  out->set_owner(e.owner);
}

void add_counts(const reactor::EventCounts& c, v1::EventCounts* out) {
  out->set_initialized(out->initialized() + c.initialized);
  out->set_pending(out->pending() + c.pending);
  out->set_active(out->active() + c.active);
  out->set_internal(out->internal() + c.internal);
  for (std::size_t i = 0; i < c.active_per_priority.size(); ++i) {
    if (static_cast<int>(i) >= out->active_per_priority_size()) out->add_active_per_priority(0);
    out->set_active_per_priority(static_cast<int>(i),
                                 out->active_per_priority(static_cast<int>(i)) + c.active_per_priority[i]);
  }
}

void to_proto(const reactor::LoopStats& stats, const reactor::EventCounts& counts, unsigned loop,
              v1::LoopStats* out) {
  out->set_loop(loop);
  out->set_iterations(stats.iterations);
  out->set_callbacks(stats.callbacks);
  out->set_poll_wait_us(stats.poll_wait.count());
  out->set_callback_time_us(stats.callback_time.count());
  out->set_longest_callback_us(stats.longest_callback.count());
  add_counts(counts, out->mutable_events());
}

}  // namespace reactord
