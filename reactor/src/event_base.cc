// EventBase: the public face of EventBaseImpl (thread checks, argument checks).
#include "reactor/event_base.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "event_base_impl.h"

namespace reactor {

const char* to_string(Backend backend) { return backend == Backend::kPoll ? "poll" : "epoll"; }

EventBase::EventBase(EventBaseConfig config) : impl_(std::make_unique<detail::EventBaseImpl>(this, config)) {
  cached_now_ = &impl_->cached_now;
  impl_->posts.open(*this);
}

EventBase::~EventBase() {
  if (impl_->running.load()) {
    std::fprintf(stderr, "reactor: EventBase destroyed from inside its loop\n");
    std::abort();
  }
  assert_in_loop_thread();
}

LoopResult EventBase::dispatch() { return loop(0); }

LoopResult EventBase::loop(LoopFlags flags) {
  // loop() makes the calling thread the loop thread, so only re-entry is checked here.
  return impl_->loop(flags);
}

// Directly only from inside the running loop; otherwise through post(), which is safe from
// any thread, wakes a loop blocked in the backend, and keeps the request for the next loop()
// when none runs (sticky). Posting also covers the hand-over race: a base built on one thread
// and looped on another, where the builder cannot know whether the loop has started.
void EventBase::loopexit(std::optional<Duration> delay) {
  if (impl_->running.load(std::memory_order_relaxed) && in_loop_thread()) {
    impl_->request_exit(delay);
    return;
  }
  post([this, delay] { impl_->request_exit(delay); });
}

void EventBase::loopbreak() {
  if (impl_->running.load(std::memory_order_relaxed) && in_loop_thread()) {
    impl_->request_break();
    return;
  }
  post([this] { impl_->request_break(); });
}

void EventBase::loopcontinue() {
  assert_in_loop_thread();
  impl_->continue_requested = true;
}

bool EventBase::got_exit() const {
  assert_in_loop_thread();
  return impl_->got_exit_flag;
}

bool EventBase::got_break() const {
  assert_in_loop_thread();
  return impl_->got_break_flag;
}

void EventBase::once(int fd, EventFlags what, std::optional<Duration> timeout, Event::Callback cb) {
  assert_in_loop_thread();
  if (any(what & (kPersist | kSignal))) {
    throw std::invalid_argument("reactor: once() takes neither kPersist nor kSignal");
  }
  auto ev = std::make_unique<Event>(*this, fd, what, std::move(cb));
  ev->core_.is_once = true;
  ev->set_label("once");
  // A pure timer without a timeout fires in the next iteration (libevent does the same).
  if (!ev->core_.is_io() && !timeout) timeout = Duration::zero();
  if (timeout) {
    ev->add(*timeout);
  } else {
    ev->add();
  }
  const std::uint64_t id = ev->id();
  impl_->once_events.emplace(id, std::move(ev));
}

void EventBase::post(std::function<void()> fn) { impl_->posts.post(std::move(fn)); }

void EventBase::defer_delete(std::unique_ptr<DeferredDeletable> obj) {
  assert_in_loop_thread();
  if (obj) impl_->deferred.push_back(std::move(obj));
}

CommonTimeout EventBase::init_common_timeout(Duration duration) {
  assert_in_loop_thread();
  if (duration < Duration::zero()) throw std::invalid_argument("reactor: negative timeout");
  return CommonTimeout{duration, impl_->common_queue_for(duration)};
}

void EventBase::reinit() {
  assert_in_loop_thread();
  impl_->reinit();
}

void EventBase::set_priorities(int priorities) {
  assert_in_loop_thread();
  if (priorities < 1 || priorities > 256) {
    throw std::invalid_argument("reactor: priorities must be in [1, 256]");
  }
  if (impl_->n_active > 0 || !impl_->later.empty()) {
    throw std::logic_error("reactor: cannot change priorities while events are active");
  }
  impl_->priorities = priorities;
  impl_->active.assign(priorities, detail::ActiveQueue{});
  // Events keep their level when it still exists, else move to the least urgent one.
  impl_->for_each_event([priorities](detail::EventCore* ev) {
    if (ev->priority >= priorities) ev->priority = static_cast<std::uint8_t>(priorities - 1);
  });
}

int EventBase::priorities() const { return impl_->priorities; }

TimePoint EventBase::clock_now() const { return impl_->now(); }

Backend EventBase::backend() const { return impl_->backend_kind; }
const char* EventBase::backend_name() const { return to_string(impl_->backend_kind); }

std::vector<EventInfo> EventBase::snapshot() const {
  assert_in_loop_thread();
  return impl_->snapshot();
}

EventCounts EventBase::counts() const {
  assert_in_loop_thread();
  return impl_->counts();
}

LoopStats EventBase::stats() const {
  assert_in_loop_thread();
  LoopStats s = impl_->timing.stats();
  s.posts = impl_->posts.posts();
  s.wakeup_writes = impl_->posts.wakeup_writes();
  s.wakeup_errors = impl_->posts.wakeup_errors();
  s.signal_pipe_errors = impl_->signals.errors();
  return s;
}

bool EventBase::in_loop_thread() const { return impl_->in_loop_thread(); }

void EventBase::check_loop_thread() const { impl_->assert_in_loop_thread(); }

}  // namespace reactor
