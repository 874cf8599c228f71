// Signals, on their own loop and thread (SignalLoop), so that they keep working after ExitLoop
// or BreakLoop on any serving loop:
//   SIGINT  — the seed's signal_cb: print its line, the loops exit after two seconds.
//   SIGTERM — drain: stop accepting, let clients leave, close the rest at --drain-timeout,
//             exit 0.
//   SIGHUP  — on_hangup(): reload without restart (Server::reload: token and TLS files, the
//             log level, --config), audited like the Control RPC Reload.
//   SIGUSR1, SIGUSR2, SIGALRM — logged and ignored; SIGPIPE — ignored.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "server/server.h"
#include "server/signal_loop.h"

namespace reactord {

void Server::install_signals() {
  SignalLoop::Handlers handlers;
  handlers.on_interrupt = [this] {
    std::printf("Caught an interrupt signal; exiting cleanly in two seconds.\n");
    std::fflush(stdout);
    stop_after(std::chrono::seconds(2));
  };
  handlers.on_terminate = [this] { on_terminate(); };
  handlers.on_hangup = [this] { on_hangup(); };
  signals_ = std::make_unique<SignalLoop>(std::move(handlers));
}

void Server::on_terminate() {
  spdlog::info("SIGTERM: draining ({} connections, {} to leave)", open_connections(),
               format_duration(config_.drain_timeout));
  // The process ends within --drain-timeout + 1 s of the first SIGTERM, whatever is running:
  // the drain's graceful closes turn into resets after half a second, the control plane's
  // grace is cut to the deadline, and should anything still hang (a metrics worker reading
  // from an idle scraper polls in 2 s quanta), the process exits at the deadline.
  const auto budget = config_.drain_timeout + std::chrono::seconds(1);
  std::int64_t none = 0;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  if (stop_deadline_ns_.compare_exchange_strong(
          none, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count())) {
    // A little early, so that exiting itself fits.
    signals_->after(budget - std::chrono::milliseconds(50), [this] { on_stop_deadline_passed(); });
  }
  drain(std::nullopt, /*exit_when_done=*/true);
}

void Server::on_stop_deadline_passed() {
  spdlog::warn("SIGTERM + {}: still stopping (state {}, {} connections); exiting now",
               format_duration(config_.drain_timeout + std::chrono::seconds(1)), to_string(state()),
               open_connections());
  spdlog::default_logger()->flush();
  std::printf("done\n");
  std::fflush(stdout);
  int code = 0;
  {
    std::lock_guard lock(mutex_);
    code = exit_code_;
  }
  std::_Exit(code);  // no destructors: other threads are still in them
}

void Server::on_hangup() {
  spdlog::info("SIGHUP received: reloading");
  ReloadRequest request;
  request.source = "SIGHUP";
  const ReloadReport report = reload(request);
  // Audited as the RPC is (handler_steps.cc's format): who = the signal, no peer.
  auto audit = spdlog::get("audit");
  if (!audit) audit = spdlog::default_logger();
  audit->info("audit: rpc=Reload status=OK role=signal peer=SIGHUP request={{}} result=\"ok={} {}\"",
              report.ok() ? "true" : "false", report.summary());
}

}  // namespace reactord
