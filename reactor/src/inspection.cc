// Value types for the outside world: names, flag strings, the histogram, snapshot, counts.
#include "reactor/inspection.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include "event_base_impl.h"
#include "histogram_bucket.h"
#include "reactor/event_flags.h"

namespace reactor {

std::string flags_to_string(EventFlags flags) {
  static constexpr struct {
    EventFlags bit;
    const char* name;
  } kNames[] = {{kTimeout, "TIMEOUT"}, {kRead, "READ"}, {kWrite, "WRITE"},  {kSignal, "SIGNAL"},
                {kPersist, "PERSIST"}, {kET, "ET"},     {kClosed, "CLOSED"}};
  if (!any(flags)) return "0";
  std::string out;
  for (const auto& n : kNames) {
    if (any(flags & n.bit)) {
      if (!out.empty()) out += '|';
      out += n.name;
      flags &= ~n.bit;
    }
  }
  if (any(flags)) {  // bits without a name
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(bits(flags)));
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

void DurationHistogram::record(Duration d) { detail::record_in(*this, d); }

namespace detail {

namespace {

struct Describer {
  EventFunction fn;
  EventDescriber describe;
};
// Written once per function, before any event of it exists (the first BufferEvent), read on
// loop threads: the count is published with release / acquire.
constexpr std::size_t kMaxDescribers = 16;
Describer g_describers[kMaxDescribers];
std::atomic<std::size_t> g_n_describers{0};
std::mutex g_describers_mutex;

}  // namespace

void register_describer(EventFunction fn, EventDescriber describe) {
  std::lock_guard lock(g_describers_mutex);
  const std::size_t n = g_n_describers.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    if (g_describers[i].fn == fn) return;
  }
  if (n == kMaxDescribers) throw std::logic_error("reactor: too many event describers");
  g_describers[n] = Describer{fn, describe};
  g_n_describers.store(n + 1, std::memory_order_release);
}

EventTag EventBaseImpl::tag_of(const EventCore* ev) const {
  if (ev->tagged) {
    auto it = tags.find(ev);
    if (it != tags.end()) return it->second;
  }
  const std::size_t n = g_n_describers.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i) {
    if (g_describers[i].fn == ev->fn) return g_describers[i].describe(ev->fn, ev->arg);
  }
  return {};
}

EventTag& EventBaseImpl::tag_slot(EventCore* ev) {
  if (!ev->tagged) {
    EventTag initial = tag_of(ev);  // keep what a describer said
    ev->tagged = true;
    return tags[ev] = initial;
  }
  return tags[ev];
}

std::vector<EventInfo> EventBaseImpl::snapshot() const {
  std::vector<EventInfo> out;
  const TimePoint t = now();
  for_each_event([&](const EventCore* ev) {
    EventInfo info;
    info.id = ev->id;
    info.kind = ev->kind();
    info.fd = ev->is_signal() ? -1 : ev->fd;
    info.signal = ev->is_signal() ? ev->fd : 0;
    info.requested = ev->what;
    info.state = ev->state();
    info.fired = ev->active ? ev->fired : EventFlags{};
    info.priority = ev->priority;
    if (ev->in_timer) {  // only events with a timer part
      auto left = std::chrono::duration_cast<Duration>(timed(ev)->deadline - t);
      info.time_left = left < Duration::zero() ? Duration::zero() : left;
    }
    const EventTag tag = tag_of(ev);
    if (tag.label) info.label = tag.label;
    info.owner = tag.owner;
    out.push_back(std::move(info));
  });
  // The tables are walked by fd; callers see creation order, as before.
  std::sort(out.begin(), out.end(), [](const EventInfo& a, const EventInfo& b) { return a.id < b.id; });
  return out;
}

EventCounts EventBaseImpl::counts() const {
  EventCounts c;
  c.active_per_priority.assign(priorities, 0);
  for_each_event([&c](const EventCore* ev) {
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
  });
  return c;
}

}  // namespace detail
}  // namespace reactor
