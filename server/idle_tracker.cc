#include "server/idle_tracker.h"

#include <bit>

namespace reactord {
namespace {

// The largest power of two of nanoseconds <= timeout / 1024, minus one (a mask).
std::int64_t granule_mask_for(reactor::Duration timeout) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count() / 1024;
  if (ns <= 1) return 0;
  return static_cast<std::int64_t>(std::bit_floor(static_cast<std::uint64_t>(ns))) - 1;
}

}  // namespace

IdleTracker::IdleTracker(reactor::EventBase& base, reactor::Duration timeout, Expired on_expired)
    : base_(base),
      timeout_(timeout),
      granule_mask_(granule_mask_for(timeout)),
      on_expired_(std::move(on_expired)),
      timer_(reactor::Event::timer(base, [this](int, reactor::EventFlags) { on_timer(); })) {
  timer_->set_label("idle.sweep");
}

IdleTracker::~IdleTracker() {
  // Leave the hooks consistent for owners that outlive us.
  while (head_ != nullptr) unlink(*head_);
}

void IdleTracker::link_tail(Hook& hook) {
  hook.idle_prev = tail_;
  hook.idle_next = nullptr;
  if (tail_)
    tail_->idle_next = &hook;
  else
    head_ = &hook;
  tail_ = &hook;
  ++size_;
}

void IdleTracker::unlink(Hook& hook) {
  if (hook.idle_prev)
    hook.idle_prev->idle_next = hook.idle_next;
  else
    head_ = hook.idle_next;
  if (hook.idle_next)
    hook.idle_next->idle_prev = hook.idle_prev;
  else
    tail_ = hook.idle_prev;
  hook.idle_prev = nullptr;
  hook.idle_next = &hook;  // not linked
  --size_;
}

reactor::TimePoint IdleTracker::round_up(reactor::TimePoint now) const {
  const std::int64_t ticks = now.time_since_epoch().count();
  return reactor::TimePoint(reactor::TimePoint::duration((ticks + granule_mask_) & ~granule_mask_));
}

void IdleTracker::touch(Hook& hook) {
  const reactor::TimePoint since = round_up(base_.now());
  // Same granule as its last touch: nothing behind it is later, so it is already in order.
  if (since == hook.idle_since && hook.idle_linked()) return;
  hook.idle_since = since;
  if (hook.idle_linked()) {
    if (tail_ == &hook) return;  // already the most recent
    unlink(hook);
  }
  link_tail(hook);
  // The timer runs while the list is non-empty; it needs arming only when it was empty.
  if (size_ == 1) arm();
}

void IdleTracker::remove(Hook& hook) {
  if (!hook.idle_linked()) return;
  unlink(hook);
  if (size_ == 0) timer_->del();
}

void IdleTracker::arm() {
  if (head_ == nullptr) return;
  const reactor::TimePoint now = base_.now();
  const reactor::TimePoint due = deadline_of(*head_);
  timer_->add(due > now ? std::chrono::ceil<reactor::Duration>(due - now) : reactor::Duration::zero());
}

void IdleTracker::on_timer() {
  const reactor::TimePoint now = base_.now();
  // Each expired hook is handed over once: one that is touched again goes to the tail with
  // idle_since = now, so it cannot be expired again in this sweep.
  while (head_ != nullptr && deadline_of(*head_) <= now) {
    Hook& hook = *head_;
    unlink(hook);
    on_expired_(hook);
  }
  arm();
}

}  // namespace reactord
