/* reactor_event_serve_inspection() called by the program itself: prints the port, then runs
 * a persistent timer and a read event until SIGTERM. Built only against libreactor_event. */
#include <event2/event.h>
#include <reactor_event_inspect.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void tick(evutil_socket_t fd, short what, void* arg) {}
static void on_term(evutil_socket_t sig, short what, void* arg) { event_base_loopexit(arg, NULL); }

int main(void) {
  struct event_base* base = event_base_new();
  struct timeval hour = {3600, 0};
  struct event* timer = event_new(base, -1, EV_PERSIST, tick, NULL);
  struct event* reader = event_new(base, 0, EV_READ | EV_PERSIST, tick, NULL);
  struct event* term = evsignal_new(base, SIGTERM, on_term, base);
  int port = reactor_event_serve_inspection(base, "127.0.0.1:0");
  printf("serve again: %d\n", reactor_event_serve_inspection(base, "127.0.0.1:0"));
  printf("port %d\n", port);
  fflush(stdout);
  event_add(timer, &hour);
  event_add(reader, NULL);
  event_add(term, NULL);
  event_base_dispatch(base);
  event_free(timer);
  event_free(reader);
  event_free(term);
  event_base_free(base);
  printf("done\n");
  return 0;
}
