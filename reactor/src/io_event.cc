// IoEvent: Event's registration path (event_base_impl.cc) without the timer part.
#include "io_event.h"

#include <stdexcept>

#include "event_base_impl.h"

namespace reactor::detail {

static_assert(sizeof(IoEvent) == sizeof(EventCore), "an IoEvent is its EventCore (issue #19)");

namespace {
EventBaseImpl& base_of(const EventCore& core) {
  if (core.base == nullptr) throw std::logic_error("reactor: the event's EventBase is gone");
  core.base->assert_in_loop_thread();
  return *core.base;
}
}  // namespace

IoEvent::IoEvent(EventBase& base, int fd, EventFlags what, EventFunction fn, void* arg) {
  base.assert_in_loop_thread();
  if (fd < 0 || !any(what & (kRead | kWrite | kClosed)) || any(what & kSignal)) {
    throw std::invalid_argument("reactor: an IoEvent needs an fd and I/O flags");
  }
  if (fn == nullptr) throw std::invalid_argument("reactor: an event needs a callback");
  base.impl_->attach(&core_, fd, what, fn, arg);
}

IoEvent::~IoEvent() { EventBaseImpl::destroy_if_attached(&core_); }

void IoEvent::add() { base_of(core_).add(&core_, std::nullopt, 0); }

void IoEvent::del() {
  if (core_.base == nullptr) return;
  base_of(core_).del(&core_);
}

EventFlags IoEvent::pending(EventFlags what) const {
  EventFlags flags{};
  if (core_.inserted) flags |= core_.what & (kRead | kWrite | kClosed);
  if (core_.active) flags |= core_.fired;
  return flags & what;
}

void IoEvent::base_gone() { throw std::logic_error("reactor: the event's EventBase is gone"); }

}  // namespace reactor::detail
