// A timer ticking once a second, and SIGINT handled as in the seed's signal_cb: "Caught an
// interrupt signal; exiting cleanly in two seconds." then loopexit(2 s).
//
//   build/debug/reactor/examples/timers_and_signals [--ticks N]
//
// --ticks N stops by itself after N ticks (for scripted runs).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "reactor/event.h"
#include "reactor/event_base.h"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  long max_ticks = 0;  // 0 = tick until Ctrl-C
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ticks") == 0 && i + 1 < argc) {
      char* end = nullptr;
      max_ticks = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || max_ticks < 0) {
        std::fprintf(stderr, "--ticks wants a non-negative number, got '%s'\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--ticks N]\n", argv[0]);
      return 2;
    }
  }

  reactor::EventBase base;  // event_base_new()
  std::printf("backend: %s\n", base.backend_name());

  long ticks = 0;
  // A persistent timer: evtimer_new + EV_PERSIST, event_add(ev, 1 s).
  reactor::Event tick(base, -1, reactor::kPersist, [&](int, reactor::EventFlags) {
    ++ticks;
    std::printf("tick %ld\n", ticks);
    std::fflush(stdout);
    if (max_ticks != 0 && ticks >= max_ticks) base.loopexit();
  });
  tick.add(reactor::Duration(1s));

  // evsignal_new(base, SIGINT, signal_cb, base) + event_add.
  auto on_sigint = reactor::Event::signal(base, SIGINT, [&](int, reactor::EventFlags) {
    std::printf("Caught an interrupt signal; exiting cleanly in two seconds.\n");
    std::fflush(stdout);
    base.loopexit(reactor::Duration(2s));
  });
  on_sigint->add();

  base.dispatch();  // event_base_dispatch()

  reactor::LoopStats stats = base.stats();
  std::printf("done: %ld ticks, %llu iterations, %llu callbacks\n", ticks,
              static_cast<unsigned long long>(stats.iterations),
              static_cast<unsigned long long>(stats.callbacks));
  return 0;
}
