// EventBase: the public face of BaseCore (thread checks, argument checks).
#include "reactor/event_base.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "base_core.h"
#include "signal_registry.h"

namespace reactor {

const char* to_string(Backend backend) { return backend == Backend::kPoll ? "poll" : "epoll"; }

EventBase::EventBase(EventBaseConfig config) : core_(std::make_unique<detail::BaseCore>(this, config)) {
  core_->open_wakeup();
}

EventBase::~EventBase() {
  if (core_->running.load()) {
    std::fprintf(stderr, "reactor: EventBase destroyed from inside its loop\n");
    std::abort();
  }
  assert_in_loop_thread();
}

LoopResult EventBase::dispatch() { return loop(0); }

LoopResult EventBase::loop(LoopFlags flags) {
  // loop() makes the calling thread the loop thread, so only re-entry is checked here.
  return core_->loop(flags);
}

// Directly only from inside the running loop; otherwise through post(), which is safe from
// any thread, wakes a loop blocked in the backend, and keeps the request for the next loop()
// when none runs (sticky). Posting also covers the hand-over race: a base built on one thread
// and looped on another, where the builder cannot know whether the loop has started.
void EventBase::loopexit(std::optional<Duration> delay) {
  if (core_->running.load(std::memory_order_relaxed) && in_loop_thread()) {
    core_->request_exit(delay);
    return;
  }
  post([this, delay] { core_->request_exit(delay); });
}

void EventBase::loopbreak() {
  if (core_->running.load(std::memory_order_relaxed) && in_loop_thread()) {
    core_->request_break();
    return;
  }
  post([this] { core_->request_break(); });
}

void EventBase::loopcontinue() {
  assert_in_loop_thread();
  core_->continue_requested = true;
}

bool EventBase::got_exit() const {
  assert_in_loop_thread();
  return core_->got_exit_flag;
}

bool EventBase::got_break() const {
  assert_in_loop_thread();
  return core_->got_break_flag;
}

void EventBase::once(int fd, EventFlags what, std::optional<Duration> timeout, Event::Callback cb) {
  assert_in_loop_thread();
  if (what & (kPersist | kSignal)) {
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
  core_->once_events.emplace(id, std::move(ev));
}

void EventBase::post(std::function<void()> fn) { core_->post(std::move(fn)); }

void EventBase::defer_delete(std::unique_ptr<DeferredDeletable> obj) {
  assert_in_loop_thread();
  if (obj) core_->deferred.push_back(std::move(obj));
}

CommonTimeout EventBase::init_common_timeout(Duration duration) {
  assert_in_loop_thread();
  if (duration < Duration::zero()) throw std::invalid_argument("reactor: negative timeout");
  return CommonTimeout{duration, core_->common_queue_for(duration)};
}

void EventBase::reinit() {
  assert_in_loop_thread();
  core_->reinit();
}

void EventBase::set_priorities(int priorities) {
  assert_in_loop_thread();
  if (priorities < 1 || priorities > 256) {
    throw std::invalid_argument("reactor: priorities must be in [1, 256]");
  }
  if (core_->n_active > 0 || !core_->later.empty()) {
    throw std::logic_error("reactor: cannot change priorities while events are active");
  }
  core_->priorities = priorities;
  core_->active.assign(priorities, detail::ActiveQueue{});
  // Events keep their level when it still exists, else move to the least urgent one.
  core_->for_each_event([priorities](detail::EventCore* ev) {
    if (ev->priority >= priorities) ev->priority = static_cast<std::uint8_t>(priorities - 1);
  });
}

int EventBase::priorities() const { return core_->priorities; }

TimePoint EventBase::now() const {
  assert_in_loop_thread();
  return core_->now();
}

Backend EventBase::backend() const { return core_->backend_kind; }
const char* EventBase::backend_name() const { return to_string(core_->backend_kind); }

std::vector<EventInfo> EventBase::snapshot() const {
  assert_in_loop_thread();
  return core_->snapshot();
}

EventCounts EventBase::counts() const {
  assert_in_loop_thread();
  return core_->counts();
}

LoopStats EventBase::stats() const {
  assert_in_loop_thread();
  LoopStats s = core_->stats;
  s.posts = core_->posts.load(std::memory_order_relaxed);
  s.wakeup_writes = core_->wakeup_writes.load(std::memory_order_relaxed);
  s.wakeup_errors = core_->wakeup_errors.load(std::memory_order_relaxed);
  s.signal_pipe_errors = core_->signal_read_errors + detail::signal_write_errors(core_.get());
  return s;
}

bool EventBase::in_loop_thread() const { return core_->in_loop_thread(); }

void EventBase::assert_in_loop_thread() const { core_->assert_in_loop_thread(); }

}  // namespace reactor
