// IdleTracker: --idle-timeout for every connection of one loop with ONE timer.
//
// Connections sit in an intrusive list in the order they were last active; activity moves a
// connection to the tail (O(1)). The loop's single timer is armed for the head's deadline;
// when it fires, expired heads are handed to the owner, which either closes them or touches
// them again. An idle connection thus costs its Hook (24 bytes) instead of a timer Event
// (168 bytes), and a busy one pays a list move per read instead of a timer re-add.
//
// The timer is re-armed lazily: touching the head does not move the timer, so it may fire
// early once; it then re-arms for the new head. At most one spurious wakeup per timeout.
//
// Activity is recorded in granules of 1/1024 of the timeout or less (a power of two of
// nanoseconds), rounded up: a connection active again within the granule it was last touched
// in keeps its place, since everything behind it carries the same granule and the list stays
// sorted. A busy connection so pays a time read and a compare per read, not a list move that
// writes three other connections' hooks (issue #19: the move was 40 instructions per echoed
// message at 50 connections). The price: a deadline up to one granule (< 0.1 % of the
// timeout) later than the exact one, never earlier.
//
// Thread rule: loop thread only, for everything. The tracker must be destroyed before the
// EventBase; hooks must be removed (or the tracker destroyed) before their owners die.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "reactor/clock.h"
#include "reactor/event.h"
#include "reactor/event_base.h"

namespace reactord {

class IdleTracker {
 public:
  // Embedded in each tracked object (Connection inherits it).
  // 24 bytes: "not linked" is idle_next pointing to the hook itself, not a separate flag.
  struct Hook {
    Hook* idle_prev = nullptr;
    Hook* idle_next = this;
    reactor::TimePoint idle_since{};  // last activity, rounded up to the tracker's granule
    bool idle_linked() const { return idle_next != this; }
  };
  // Called for each expired hook, already unlinked: touch() it again or drop it.
  using Expired = std::function<void(Hook&)>;

  // Loop thread only.
  IdleTracker(reactor::EventBase& base, reactor::Duration timeout, Expired on_expired);
  ~IdleTracker();
  IdleTracker(const IdleTracker&) = delete;
  IdleTracker& operator=(const IdleTracker&) = delete;

  // Marks activity now: links the hook at the tail (moving it if linked). Loop thread only.
  void touch(Hook& hook);
  // Stops tracking the hook (no-op when not linked). Loop thread only.
  void remove(Hook& hook);

  // The rounding of activity times, in nanoseconds: a power of two <= timeout / 1024 (1 for
  // timeouts under ~2 µs, which are exact). Any thread.
  std::chrono::nanoseconds granule() const { return std::chrono::nanoseconds(granule_mask_ + 1); }
  // When the hook expires if nothing happens (idle_since + timeout). Loop thread only.
  reactor::TimePoint deadline_of(const Hook& hook) const { return hook.idle_since + timeout_; }
  // The sweep timer, for the registry's view of a connection's events. Loop thread only.
  const reactor::Event& timer() const { return *timer_; }
  std::size_t size() const { return size_; }

 private:
  void link_tail(Hook& hook);
  void unlink(Hook& hook);
  void arm();
  void on_timer();
  // `now` rounded up to the next granule boundary (itself when on one).
  reactor::TimePoint round_up(reactor::TimePoint now) const;

  reactor::EventBase& base_;
  const reactor::Duration timeout_;
  const std::int64_t granule_mask_;  // granule - 1: the granule is a power of two
  Expired on_expired_;
  std::unique_ptr<reactor::Event> timer_;
  Hook* head_ = nullptr;
  Hook* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace reactord
