// Signals, as reactor signal events on loop 0 (a signal belongs to one base):
//   SIGINT  — the seed's signal_cb: print its line, the loops exit after two seconds.
//   SIGTERM — drain: stop accepting, let clients leave, close the rest at --drain-timeout,
//             exit 0.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "reactor/event.h"
#include "server/server.h"

namespace reactord {

void Server::install_signals() {
  LoopWorker& loop0 = *loops_.front();
  auto on_int = reactor::Event::signal(loop0.base(), SIGINT, [this](int, reactor::EventFlags) {
    std::printf("Caught an interrupt signal; exiting cleanly in two seconds.\n");
    std::fflush(stdout);
    stop_after(std::chrono::seconds(2));
  });
  auto on_term = reactor::Event::signal(loop0.base(), SIGTERM, [this](int, reactor::EventFlags) {
    spdlog::info("SIGTERM: draining ({} connections, {} to leave)", open_connections(),
                 format_duration(config_.drain_timeout));
    drain(std::nullopt, /*exit_when_done=*/true);
  });
  on_int->set_label("signal.SIGINT");
  on_term->set_label("signal.SIGTERM");
  on_int->add();
  on_term->add();
  loop0.own(std::move(on_int));
  loop0.own(std::move(on_term));
}

}  // namespace reactord
