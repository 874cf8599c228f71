#include "server/signal_loop.h"
#include "server/thread_name.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <string.h>

namespace reactord {

namespace {

constexpr int kStraySignals[] = {SIGUSR1, SIGUSR2, SIGALRM};

// Event labels must outlive the event (set_label keeps the pointer).
const char* label_of(int signo) {
  switch (signo) {
    case SIGINT:
      return "signal.SIGINT";
    case SIGTERM:
      return "signal.SIGTERM";
    case SIGHUP:
      return "signal.SIGHUP";
    case SIGUSR1:
      return "signal.SIGUSR1";
    case SIGUSR2:
      return "signal.SIGUSR2";
    case SIGALRM:
      return "signal.SIGALRM";
    default:
      return "signal";
  }
}

}  // namespace

const std::vector<int>& SignalLoop::handled_signals() {
  static const std::vector<int> signals = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE};
  return signals;
}

SignalLoop::SignalLoop(Handlers handlers)
    : handlers_(std::move(handlers)), base_(std::make_unique<reactor::EventBase>()) {
  // SIGPIPE: ignored process-wide, not handled (it is synchronous, raised on the writing
  // thread; there is nothing to report).
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, nullptr);

  auto add = [this](int signo, std::function<void()> fn) {
    auto event =
        reactor::Event::signal(*base_, signo, [fn = std::move(fn)](int, reactor::EventFlags) { fn(); });
    event->set_label(label_of(signo));
    event->add();
    events_.push_back(std::move(event));
  };
  add(SIGINT, [this] {
    if (handlers_.on_interrupt) handlers_.on_interrupt();
  });
  add(SIGTERM, [this] {
    if (handlers_.on_terminate) handlers_.on_terminate();
  });
  add(SIGHUP, [this] {
    if (handlers_.on_hangup) handlers_.on_hangup();
  });
  for (int signo : kStraySignals) {
    add(signo, [signo] { spdlog::info("SIG{} received: ignored", ::sigabbrev_np(signo)); });
  }
  thread_ = std::thread([this] {
    name_this_thread("signals");
    base_->loop(reactor::kLoopNoExitOnEmpty);
    // Freed on the loop's own thread (restoring the previous dispositions), once the
    // destructor's loopbreak() has returned.
    events_.clear();
    std::unique_ptr<reactor::EventBase> base;
    {
      std::lock_guard lock(mutex_);
      base = std::move(base_);
    }
  });
}

void SignalLoop::after(reactor::Duration delay, std::function<void()> fn) {
  auto timer = reactor::Event::timer(*base_, [fn = std::move(fn)](int, reactor::EventFlags) { fn(); });
  timer->set_label("signal.deadline");
  timer->add(delay);
  events_.push_back(std::move(timer));
}

SignalLoop::~SignalLoop() {
  {
    std::lock_guard lock(mutex_);
    if (base_) base_->loopbreak();  // sticky if the loop has not started yet
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace reactord
