/* Raw events on a socketpair (read, write, persist, timeouts on io events, two events on one
 * fd) and signal events (evsignal_*), printed as observations. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base* base;
static int pair[2];

static void read_cb(evutil_socket_t fd, short what, void* arg) {
  char buf[64];
  ssize_t n = 0;
  if (what & EV_READ) n = read(fd, buf, sizeof(buf) - 1);
  if (n < 0) n = 0;
  buf[n] = '\0';
  printf("%s: what=0x%x read %d bytes \"%s\"\n", (const char*)arg, what, (int)n, buf);
}

static int writes;
static void write_cb(evutil_socket_t fd, short what, void* arg) {
  struct event* self = arg;
  ++writes;
  printf("writable: what=0x%x, write %d\n", what, writes);
  if (write(fd, "ping", 4) != 4) printf("write failed\n");
  if (writes == 2) event_del(self);
}

static int usr1_count;
static void signal_cb(evutil_socket_t sig, short what, void* arg) {
  struct event* self = arg;
  ++usr1_count;
  printf("signal %s: what=0x%x, count %d, signal pending %d\n", sig == SIGUSR1 ? "SIGUSR1" : "other", what,
         usr1_count, evsignal_pending(self, NULL) != 0);
  if (usr1_count == 2) evsignal_del(self);
}

static void raise_cb(evutil_socket_t fd, short what, void* arg) {
  printf("raising SIGUSR1\n");
  raise(SIGUSR1);
}

int main(void) {
  struct timeval t20 = {0, 20000}, t1 = {0, 1000}, t5 = {0, 5000};
  struct event *r, *w, *sig, *r2, *tm;
  int n;

  base = event_base_new();
  printf("method: %s\n", event_base_get_method(base));
  if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
    printf("socketpair failed\n");
    return 1;
  }
  evutil_make_socket_nonblocking(pair[0]);
  evutil_make_socket_nonblocking(pair[1]);

  /* A non-persistent read event fires once; its timeout alone fires with EV_TIMEOUT. */
  r = event_new(base, pair[1], EV_READ, read_cb, "read once");
  event_add(r, &t20);
  printf("pending: read 0x%x, timeout 0x%x\n", event_pending(r, EV_READ, NULL),
         event_pending(r, EV_TIMEOUT, NULL));
  n = event_base_dispatch(base);
  printf("dispatch after the timeout: %d\n", n);

  /* Readable now. */
  if (write(pair[0], "hello", 5) != 5) return 1;
  event_add(r, NULL);
  n = event_base_dispatch(base);
  printf("dispatch: %d\n", n);

  /* event_add(ev, NULL) on a pending event keeps its timeout. */
  event_add(r, &t20);
  event_add(r, NULL);
  printf("timeout kept after add(NULL): %d\n", event_pending(r, EV_TIMEOUT, NULL) != 0);
  event_del(r);
  printf("pending after del: 0x%x\n", event_pending(r, EV_READ | EV_TIMEOUT, NULL));

  /* A persistent write event runs until it deletes itself; a persistent read event on the
   * other end, and a second read event on the same fd, both see the data. */
  w = event_new(base, pair[0], EV_WRITE | EV_PERSIST, write_cb, event_self_cbarg());
  event_add(w, NULL);
  n = event_base_dispatch(base);
  printf("dispatch: %d, writes %d\n", n, writes);
  r2 = event_new(base, pair[1], EV_READ, read_cb, "second reader");
  event_add(r, NULL);
  event_add(r2, NULL);
  n = event_base_loop(base, EVLOOP_ONCE);
  printf("loop once: %d, both readers pending: %d %d\n", n, event_pending(r, EV_READ, NULL) != 0,
         event_pending(r2, EV_READ, NULL) != 0);
  event_free(r2);

  /* Signals: the callback runs on the loop, with the signal number as fd. */
  sig = evsignal_new(base, SIGUSR1, signal_cb, event_self_cbarg());
  printf("signal event: events 0x%x, signal %d\n", event_get_events(sig), event_get_signal(sig) == SIGUSR1);
  evsignal_add(sig, NULL);
  tm = evtimer_new(base, raise_cb, NULL);
  evtimer_add(tm, &t1);
  event_base_loop(base, EVLOOP_ONCE);
  event_base_loop(base, EVLOOP_ONCE);
  evtimer_add(tm, &t5);
  n = event_base_dispatch(base);
  printf("dispatch: %d, SIGUSR1 seen %d\n", n, usr1_count);

  event_free(sig);
  event_free(tm);
  event_free(w);
  event_free(r);
  evutil_closesocket(pair[0]);
  evutil_closesocket(pair[1]);
  event_base_free(base);
  printf("done\n");
  return 0;
}
