// SignalPipe: one base's half of signal handling. A non-blocking self-pipe whose write end the
// process-wide handler (signal_registry.h) writes signal numbers to, the internal event that
// reads it on the loop thread, and the table signo → signal events of this base. One per
// EventBase (EventBaseImpl::signals); the pipe opens with the first signal event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "reactor/detail/event_core.h"
#include "reactor/event.h"
#include "reactor/unique_fd.h"

namespace reactor::detail {

class SignalPipe {
 public:
  // activate: what a caught signal does to each of its events (EventBaseImpl::activate(ev,
  // kSignal)).
  using Activate = std::function<void(EventCore*)>;
  SignalPipe(EventBase& base, Activate activate) : base_(base), activate_(std::move(activate)) {}
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // add() of a signal event: links ev under its signal number (ev->fd), takes the signal's
  // disposition for this base with the first event on it, opens the pipe with the first
  // event of the base. Throws std::invalid_argument for a bad number, std::logic_error if
  // another base holds the signal. Loop thread only.
  void link(EventCore* ev);
  // del() of a signal event: the reverse; the previous disposition is restored when the last
  // event on the signal goes. Loop thread only.
  void unlink(EventCore* ev);

  // After fork (reinit): a new pipe (the old one is shared with the parent), the signals
  // retargeted to it. Loop thread only.
  void reopen_after_fork();
  // ~EventBase: forgets every event (they are detached by the caller). Loop thread only.
  void forget_events();

  // Every signal event of the base. f may not add or remove events.
  template <class F>
  void for_each_event(F&& f) const {
    for (EventCore* head : heads_) {
      for (EventCore* ev = head; ev; ev = ev->fd_next) f(ev);
    }
  }

  // Failed reads of the pipe, and failed writes of the handler into it (LoopStats::
  // signal_pipe_errors). Any thread (the read count is the loop's: read it there).
  std::uint64_t errors() const;

 private:
  void open();
  void close();
  void drain();  // the pipe event's callback: activates the events of every signal caught

  EventBase& base_;
  Activate activate_;
  UniqueFd read_;
  UniqueFd write_;
  std::unique_ptr<Event> event_;
  std::vector<EventCore*> heads_;  // signo → events on it
  std::size_t n_events_ = 0;
  std::uint64_t read_errors_ = 0;  // loop thread
};

}  // namespace reactor::detail
