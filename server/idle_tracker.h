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
// Thread rule: loop thread only, for everything. The tracker must be destroyed before the
// EventBase; hooks must be removed (or the tracker destroyed) before their owners die.
#pragma once

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
    reactor::TimePoint idle_since{};  // last activity (the base's cached time)
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

  reactor::EventBase& base_;
  const reactor::Duration timeout_;
  Expired on_expired_;
  std::unique_ptr<reactor::Event> timer_;
  Hook* head_ = nullptr;
  Hook* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace reactord
