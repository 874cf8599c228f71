// Event: argument checks and thread checks, then the base does the work (event_base_impl.cc).
#include "reactor/event.h"

#include <stdexcept>

#include "event_base_impl.h"
#include "reactor/event_base.h"
#include "signal_registry.h"

namespace reactor {

namespace {

// The std::function adapter: arg is the heap EventCallback the Event owns.
void call_function(int fd, EventFlags fired, void* arg) { (*static_cast<EventCallback*>(arg))(fd, fired); }

void check_arguments(int fd, EventFlags what) {
  if (any(what & kSignal)) {
    if (any(what & (kRead | kWrite | kClosed | kET))) {
      throw std::invalid_argument("reactor: a signal event cannot also wait for I/O");
    }
    if (!detail::valid_signal_number(fd)) {
      throw std::invalid_argument("reactor: invalid signal number " + std::to_string(fd));
    }
  } else if (any(what & (kRead | kWrite | kClosed)) && fd < 0) {
    throw std::invalid_argument("reactor: an I/O event needs an fd");
  }
}

}  // namespace

static_assert(sizeof(detail::EventCore) == 80, "an idle connection's budget (issue #19): see event_core.h");
static_assert(sizeof(detail::TimedEventCore) == 112, "an Event's size: see event_core.h");

Event::Event(EventBase& base, int fd, EventFlags what, Callback cb) {
  base.assert_in_loop_thread();
  check_arguments(fd, what);
  if (!cb) throw std::invalid_argument("reactor: an event needs a callback");
  // An fd without I/O flags is a timer that still reports its fd (as in libevent).
  base.impl_->attach(&core_, fd, what, &call_function, new EventCallback(std::move(cb)));
}

Event::Event(EventBase& base, int fd, EventFlags what, EventFunction fn, void* arg) {
  base.assert_in_loop_thread();
  check_arguments(fd, what);
  if (fn == nullptr) throw std::invalid_argument("reactor: an event needs a callback");
  base.impl_->attach(&core_, fd, what, fn, arg);
}

Event::~Event() {
  detail::EventBaseImpl::destroy_if_attached(&core_);
  if (core_.fn == &call_function) delete static_cast<EventCallback*>(core_.arg);
}

std::unique_ptr<Event> Event::timer(EventBase& base, Callback cb) {
  return std::make_unique<Event>(base, -1, EventFlags{}, std::move(cb));
}

std::unique_ptr<Event> Event::signal(EventBase& base, int signo, Callback cb) {
  return std::make_unique<Event>(base, signo, kSignal | kPersist, std::move(cb));
}

namespace {
detail::EventBaseImpl& base_of(const detail::EventCore& core) {
  if (core.base == nullptr) throw std::logic_error("reactor: the event's EventBase is gone");
  core.base->assert_in_loop_thread();
  return *core.base;
}
}  // namespace

void Event::add() { base_of(core_).add(&core_, std::nullopt, 0); }

void Event::add(Duration timeout) { base_of(core_).add(&core_, timeout, 0); }

void Event::add(const CommonTimeout& timeout) {
  detail::EventBaseImpl& base = base_of(core_);
  // A CommonTimeout from another base (or default-constructed) is a plain duration.
  std::uint32_t queue = timeout.index;
  if (queue == 0 || queue > base.common.size() || base.common[queue - 1].duration != timeout.duration) {
    queue = 0;
  }
  base.add(&core_, timeout.duration, queue);
}

void Event::del() {
  if (core_.base == nullptr) return;
  base_of(core_).del(&core_);
}

void Event::activate(EventFlags flags) { base_of(core_).activate(&core_, flags); }

EventFlags Event::pending(EventFlags what, std::optional<Duration>* time_left) const {
  EventFlags flags{};
  if (core_.inserted) flags |= core_.what & (kRead | kWrite | kSignal | kClosed);
  if (core_.in_timer) {
    flags |= kTimeout;
    if (time_left != nullptr && any(what & kTimeout)) {
      auto left = std::chrono::duration_cast<Duration>(core_.deadline - core_.base->now());
      *time_left = left < Duration::zero() ? Duration::zero() : left;
    }
  }
  if (core_.active) flags |= core_.fired;
  return flags & what;
}

EventState Event::state() const { return core_.state(); }

void Event::set_priority(int priority) { base_of(core_).set_priority(&core_, priority); }

void Event::set_owner(std::uint64_t owner) {
  if (core_.base) base_of(core_).tag_slot(&core_).owner = owner;
}

void Event::set_label(const char* label) {
  if (core_.base) base_of(core_).tag_slot(&core_).label = label;
}

void Event::set_internal(bool internal) {
  if (core_.base) {
    base_of(core_).set_internal(&core_, internal);
  } else {
    core_.internal = internal;
  }
}

int Event::fd() const { return core_.fd; }

EventBase& Event::base() const {
  if (core_.base == nullptr) throw std::logic_error("reactor: the event's EventBase is gone");
  return *core_.base->self;
}

EventFlags Event::events() const { return core_.what; }
int Event::priority() const { return core_.priority; }
const Event::Callback& Event::callback() const {
  static const Callback kNone;
  return core_.fn == &call_function ? *static_cast<const Callback*>(core_.arg) : kNone;
}
EventFunction Event::function() const { return core_.fn; }
void* Event::function_arg() const { return core_.arg; }
std::uint64_t Event::id() const { return core_.id; }
std::uint64_t Event::owner() const { return core_.base ? core_.base->tag_of(&core_).owner : 0; }
const char* Event::label() const {
  const char* label = core_.base ? core_.base->tag_of(&core_).label : nullptr;
  return label ? label : "";
}
EventKind Event::kind() const { return core_.kind(); }

}  // namespace reactor
