// Registration: what add(), del() and activate() do to the fd map, the signal map, the
// timers and the active queues, and the teardown / reinit of a base.
#include "event_base_impl.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "event_list.h"

namespace reactor::detail {

namespace {

Backend choose_backend(const EventBaseConfig& config) {
  if (config.backend) return *config.backend;
  if (const char* env = std::getenv("REACTOR_BACKEND")) {
    if (std::string_view(env) == "poll") return Backend::kPoll;
    if (std::string_view(env) == "epoll") return Backend::kEpoll;
  }
  if (std::getenv("REACTOR_NOEPOLL") != nullptr) return Backend::kPoll;
  return Backend::kEpoll;
}

}  // namespace

EventBaseImpl::EventBaseImpl(EventBase* owner, const EventBaseConfig& config)
    : self(owner),
      backend_kind(choose_backend(config)),
      clock_id(config.precise_timer ? CLOCK_MONOTONIC : CLOCK_MONOTONIC_COARSE),
      signals(*owner, [this](EventCore* ev) { activate(ev, kSignal); }) {
  if (config.priorities < 1 || config.priorities > 256) {
    throw std::invalid_argument("reactor: priorities must be in [1, 256]");
  }
  loop_thread.store(std::this_thread::get_id());
  priorities = config.priorities;
  active.resize(priorities);
  poller = make_poller(backend_kind);
}

EventBaseImpl::~EventBaseImpl() {
  // Objects handed to defer_delete may own events: destroy them while the base still works.
  run_deferred_deletes();
  // Base-owned events first (their ~Event unregisters them), then the internal ones.
  once_events.clear();
  exit_timer.reset();
  // Whatever remains belongs to users: detach it. Signals are given back (the previous
  // disposition restored); the poller and our fds simply close with the base.
  std::vector<EventCore*> remaining;
  for_each_event([&remaining](EventCore* ev) { remaining.push_back(ev); });
  for (EventCore* ev : remaining) {
    if (ev->inserted && ev->is_signal()) signals.unlink(ev);
    ev->base = nullptr;
    if (ev->in_timer) {
      TimedEventCore* t = timed(ev);
      t->heap_index = -1;
      t->timer_prev = t->timer_next = nullptr;
    }
    ev->inserted = ev->in_timer = ev->active = ev->in_later = ev->tagged = false;
    ev->fd_prev = ev->fd_next = nullptr;
    ev->active_prev = ev->active_next = nullptr;
  }
  std::fill(fd_heads.begin(), fd_heads.end(), nullptr);
  signals.forget_events();
  loose = nullptr;
  tags.clear();
  // The post queue's and the signal pipe's events are detached above; their owners free them.
}

void EventBaseImpl::assert_in_loop_thread() const {
#ifndef NDEBUG
  if (!in_loop_thread()) {
    std::fprintf(stderr, "reactor: EventBase used off its loop thread (use post())\n");
    std::abort();
  }
#endif
}

void EventBaseImpl::attach(EventCore* ev, int fd, EventFlags what, EventFunction fn, void* arg) {
  ev->fn = fn;
  ev->arg = arg;
  ev->fd = fd;
  ev->what = what;
  ev->base = this;
  ev->id = next_id++;
  ev->priority = static_cast<std::uint8_t>(priorities / 2);  // libevent's default: the middle
  loose_link(ev);
}

void EventBaseImpl::destroy_if_attached(EventCore* ev) {
  EventBaseImpl* base = ev->base;
  if (base == nullptr) return;
  base->assert_in_loop_thread();
  base->del(ev);
  base->loose_unlink(ev);
  if (ev->tagged) base->tags.erase(ev);
  ev->tagged = false;
  ev->base = nullptr;
}

void EventBaseImpl::loose_link(EventCore* ev) { link_front(loose, ev); }

void EventBaseImpl::loose_unlink(EventCore* ev) { unlink_from(loose, ev); }

EventFlags EventBaseImpl::fd_interest(int fd) const {
  EventFlags interest{};
  if (fd < 0 || static_cast<std::size_t>(fd) >= fd_heads.size()) return interest;
  for (const EventCore* ev = fd_heads[fd]; ev; ev = ev->fd_next) {
    interest |= ev->what & (kRead | kWrite | kClosed | kET);
  }
  return interest;
}

void EventBaseImpl::io_link(EventCore* ev) {
  const int fd = ev->fd;
  if (static_cast<std::size_t>(fd) >= fd_heads.size()) fd_heads.resize(fd + 1, nullptr);
  EventCore*& head = fd_heads[fd];
  if (head != nullptr && any((head->what ^ ev->what) & kET) && backend_kind == Backend::kEpoll) {
    throw std::logic_error("reactor: edge- and level-triggered events cannot share an fd");
  }
  link_front(head, ev);
  try {
    poller->set_interest(fd, fd_interest(fd));
  } catch (...) {
    unlink_from(head, ev);
    throw;
  }
}

void EventBaseImpl::io_unlink(EventCore* ev) {
  const int fd = ev->fd;
  unlink_from(fd_heads[fd], ev);
  try {
    poller->set_interest(fd, fd_interest(fd));
  } catch (const std::system_error&) {
    // The fd was closed (and maybe reused) behind our back: nothing left to unregister.
  }
}

void EventBaseImpl::schedule(TimedEventCore* ev, TimePoint deadline) {
  ev->deadline = deadline;
  ev->in_timer = true;
  if (ev->common != 0) {
    common[ev->common - 1].insert(ev);
  } else {
    heap.push(ev);
  }
}

void EventBaseImpl::unschedule(EventCore* ev) {
  if (!ev->in_timer) return;  // never set on an event without a timer part
  TimedEventCore* t = timed(ev);
  if (t->heap_index >= 0) {
    heap.erase(t);
  } else {
    common[t->common - 1].erase(t);
  }
  ev->in_timer = false;
}

void EventBaseImpl::remove_active(EventCore* ev) {
  if (!ev->active) return;
  if (ev->in_later) {
    later.erase(ev);
    ev->in_later = false;
  } else {
    active[ev->priority].erase(ev);
    --n_active;
  }
  ev->active = false;
  ev->fired = {};
}

void EventBaseImpl::add(EventCore* ev, std::optional<Duration> timeout, std::uint32_t common_index) {
  if (timeout && !ev->has_timer_part()) {
    throw std::logic_error("reactor: this event has no timer part: it cannot take a timeout");
  }
  const bool was = live(ev);
  if (!ev->inserted) {
    if (ev->is_io() || ev->is_signal()) {
      // From the loose list to the fd or signal table (back again if the backend refuses).
      loose_unlink(ev);
      try {
        if (ev->is_io()) {
          io_link(ev);
        } else {
          signals.link(ev);
        }
      } catch (...) {
        loose_link(ev);
        throw;
      }
    } else if (!timeout) {
      throw std::logic_error("reactor: a timer event needs a timeout to be added");
    }
    ev->inserted = true;
  }
  // Re-adding replaces (or clears) the timeout.
  unschedule(ev);
  ev->has_timeout = timeout.has_value();
  if (timeout) {
    TimedEventCore* t = timed(ev);  // checked above
    Duration d = *timeout < Duration::zero() ? Duration::zero() : *timeout;
    if (any(t->what & kPersist)) t->timeout = d;          // only a kPersist event re-arms from it
    t->common = static_cast<std::uint8_t>(common_index);  // ≤ 255: common_queue_for
    schedule(t, now() + d);
  } else {
    ev->common = 0;
  }
  retally(ev, was);
}

void EventBaseImpl::del(EventCore* ev) {
  const bool was = live(ev);
  remove_active(ev);
  unschedule(ev);
  if (ev->inserted) {
    ev->inserted = false;
    if (ev->is_io()) {
      io_unlink(ev);
      loose_link(ev);
    } else if (ev->is_signal()) {
      signals.unlink(ev);
      loose_link(ev);
    }
  }
  ev->has_timeout = false;
  retally(ev, was);
}

void EventBaseImpl::move_later_to_active() {
  while (EventCore* ev = later.pop_front()) {
    ev->in_later = false;
    active[ev->priority].push_back(ev);
    ++n_active;
  }
}

void EventBaseImpl::set_priority(EventCore* ev, int priority) {
  if (ev->active) throw std::logic_error("reactor: cannot change the priority of an active event");
  if (priority < 0 || priority >= priorities) {
    throw std::invalid_argument("reactor: priority out of range");
  }
  ev->priority = static_cast<std::uint8_t>(priority);
}

void EventBaseImpl::set_internal(EventCore* ev, bool internal) {
  const bool was = live(ev);
  ev->internal = internal;
  retally(ev, was);
}

std::uint32_t EventBaseImpl::common_queue_for(Duration d) {
  for (std::size_t i = 0; i < common.size(); ++i) {
    if (common[i].duration == d) return static_cast<std::uint32_t>(i + 1);
  }
  if (common.size() >= 255) return 0;  // EventCore::common's width: the heap takes the rest
  common.push_back(CommonQueue{d});
  return static_cast<std::uint32_t>(common.size());
}

void EventBaseImpl::reinit() {
  // In a forked child the epoll fd is shared with the parent: never epoll_ctl it (that would
  // change the parent's interest set). Build a fresh poller first, then re-register.
  poller = make_poller(backend_kind);
  // The wakeup eventfd and the signal pipe are shared with the parent too: replace them.
  // Their events are destroyed against the fresh poller, which does not know their fds.
  posts.open(*self);
  signals.reopen_after_fork();
  for (std::size_t fd = 0; fd < fd_heads.size(); ++fd) {
    EventFlags interest = fd_interest(static_cast<int>(fd));
    if (interest != EventFlags{}) poller->set_interest(static_cast<int>(fd), interest);
  }
}

}  // namespace reactor::detail
