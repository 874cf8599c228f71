// SignalLoop: reactord's signals on a dedicated thread with its own EventBase (libevent's
// evsignal_new on a base that does nothing else). A signal belongs to one base; putting them on
// a loop of their own means they keep working whatever happens to the serving loops (ExitLoop
// or BreakLoop on loop 0, a loop that failed).
//
// Signals handled (each runs its handler on the signal thread):
//   SIGINT, SIGTERM, SIGHUP        → the handlers given (SIGHUP: Server::on_hangup, a reload
//                                    without restart: Server::reload)
//   SIGUSR1, SIGUSR2, SIGALRM      → logged at info and otherwise ignored (a stray kill must
//                                    not end a daemon)
//   SIGPIPE                        → ignored (SIG_IGN): writes use MSG_NOSIGNAL anyway, and a
//                                    library that forgets must not kill the process
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "reactor/event.h"
#include "reactor/event_base.h"

namespace reactord {

class SignalLoop {
 public:
  struct Handlers {
    std::function<void()> on_interrupt;  // SIGINT
    std::function<void()> on_terminate;  // SIGTERM
    std::function<void()> on_hangup;     // SIGHUP
  };
  // Installs the signal events and starts the thread. Throws std::system_error /
  // std::logic_error if a signal cannot be taken. Main thread.
  explicit SignalLoop(Handlers handlers);
  // Ends the thread, frees the events (restoring the previous dispositions). Main thread.
  ~SignalLoop();
  SignalLoop(const SignalLoop&) = delete;
  SignalLoop& operator=(const SignalLoop&) = delete;

  // Runs fn on the signal thread after `delay` (once). Signal thread only (from a handler).
  void after(reactor::Duration delay, std::function<void()> fn);

  // The signals this loop takes (for tests and docs). Any thread.
  static const std::vector<int>& handled_signals();

 private:
  Handlers handlers_;
  std::mutex mutex_;  // the destructor's loopbreak() vs the thread freeing the base
  std::unique_ptr<reactor::EventBase> base_;
  std::vector<std::unique_ptr<reactor::Event>> events_;
  std::thread thread_;
};

}  // namespace reactord
