// Drain: one loop's part of a graceful drain (HAProxy's soft-stop) — whether the loop drains,
// the deadline timer that closes what is left, loop 0's progress line (one a second), and the
// delayed close of idle connections (Drain{close_idle_after}). Listening stops and starts in
// the Acceptor; the LoopWorker calls both (begin_drain / end_drain).
//
// Thread rule: loop thread only (the LoopWorker owns it).
#pragma once

#include <cstddef>
#include <memory>

#include "reactor/event.h"
#include "reactor/event_base.h"

namespace reactord {

class ConnectionTable;
struct CrossLoopState;

class Drain {
 public:
  Drain(unsigned index, reactor::EventBase& base, CrossLoopState& shared, ConnectionTable& connections);
  ~Drain();
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;

  // Marks every connection draining; at `deadline` what is left is closed (gracefully, reason
  // drain, with a short grace: see on_deadline). Loop thread only.
  void begin(reactor::Duration deadline);
  // Resume: the connections are open again; the timers are gone. Loop thread only.
  void end();
  // Shutdown: the timers are gone (the connections are closed by the loop's teardown). Loop
  // thread only.
  void stop();
  bool active() const { return active_; }
  // After `after`, if this loop still drains, closes gracefully (reason drain) every connection
  // idle for at least `min_idle`. Loop thread only.
  void close_idle_later(reactor::Duration after, reactor::Duration min_idle);

 private:
  void on_deadline();

  const unsigned index_;
  reactor::EventBase& base_;
  CrossLoopState& shared_;
  ConnectionTable& connections_;
  bool active_ = false;
  std::unique_ptr<reactor::Event> deadline_timer_;
  std::unique_ptr<reactor::Event> progress_;  // loop 0: one log line a second
};

}  // namespace reactord
