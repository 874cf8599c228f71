// Value types for the outside world: names, flag strings, the histogram, snapshot, counts.
#include "reactor/inspection.h"

#include <cstdio>

#include "base_core.h"
#include "reactor/event_flags.h"

namespace reactor {

std::string flags_to_string(EventFlags flags) {
  static constexpr struct {
    EventFlags bit;
    const char* name;
  } kNames[] = {{kTimeout, "TIMEOUT"}, {kRead, "READ"}, {kWrite, "WRITE"},  {kSignal, "SIGNAL"},
                {kPersist, "PERSIST"}, {kET, "ET"},     {kClosed, "CLOSED"}};
  if (flags == 0) return "0";
  std::string out;
  for (const auto& n : kNames) {
    if (flags & n.bit) {
      if (!out.empty()) out += '|';
      out += n.name;
      flags &= static_cast<EventFlags>(~n.bit);
    }
  }
  if (flags != 0) {  // bits without a name
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(flags));
    if (!out.empty()) out += '|';
    out += hex;
  }
  return out;
}

const char* to_string(EventState state) {
  switch (state) {
    case EventState::kInitialized:
      return "initialized";
    case EventState::kPending:
      return "pending";
    case EventState::kActive:
      return "active";
  }
  return "?";
}

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::kIo:
      return "io";
    case EventKind::kSignal:
      return "signal";
    case EventKind::kTimer:
      return "timer";
    case EventKind::kInternal:
      return "internal";
  }
  return "?";
}

void DurationHistogram::record(Duration d) {
  const std::int64_t us = d.count();
  std::size_t i = 0;
  while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
  ++counts[i];
  sum += d;
  ++total;
}

namespace detail {

std::vector<EventInfo> BaseCore::snapshot() const {
  std::vector<EventInfo> out;
  const TimePoint t = now();
  for (const EventCore* ev = all_head; ev; ev = ev->all_next) {
    EventInfo info;
    info.id = ev->id;
    info.kind = ev->kind();
    info.fd = ev->is_signal() ? -1 : ev->fd;
    info.signal = ev->is_signal() ? ev->fd : 0;
    info.requested = ev->what;
    info.state = ev->state();
    info.fired = ev->active ? ev->fired : 0;
    info.priority = ev->priority;
    if (ev->in_timer) {
      auto left = std::chrono::duration_cast<Duration>(ev->deadline - t);
      info.time_left = left < Duration::zero() ? Duration::zero() : left;
    }
    if (ev->label) info.label = ev->label;
    info.owner = ev->owner;
    out.push_back(std::move(info));
  }
  return out;
}

EventCounts BaseCore::counts() const {
  EventCounts c;
  c.active_per_priority.assign(priorities, 0);
  for (const EventCore* ev = all_head; ev; ev = ev->all_next) {
    switch (ev->state()) {
      case EventState::kInitialized:
        ++c.initialized;
        break;
      case EventState::kPending:
        ++c.pending;
        break;
      case EventState::kActive:
        ++c.active;
        ++c.active_per_priority[ev->priority];
        break;
    }
    if (ev->internal) ++c.internal;
  }
  return c;
}

}  // namespace detail
}  // namespace reactor
