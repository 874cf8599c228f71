/* Events, timers, loop control and priorities, printed as observations (no times, no
 * addresses), so that the output on libevent and on libreactor_event can be compared. */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

static int fired_order[16];
static int n_fired;

static void record_cb(evutil_socket_t fd, short what, void* arg) {
  int id = *(int*)arg;
  fired_order[n_fired++] = id;
  printf("timer %d fired: fd=%d what=0x%x\n", id, (int)fd, what);
}

static void self_cb(evutil_socket_t fd, short what, void* arg) {
  struct event* ev = arg;
  printf("self cbarg is the event: %s, pending now: %d\n", event_get_callback_arg(ev) == ev ? "yes" : "no",
         event_pending(ev, EV_TIMEOUT, NULL) != 0);
}

static int persist_count;
static void persist_cb(evutil_socket_t fd, short what, void* arg) {
  struct event* ev = arg;
  ++persist_count;
  printf("persistent timer run %d (what=0x%x, still pending: %d)\n", persist_count, what,
         event_pending(ev, EV_TIMEOUT, NULL) != 0);
  if (persist_count == 3) event_del(ev);
}

static void once_cb(evutil_socket_t fd, short what, void* arg) {
  printf("once: %s fd=%d what=0x%x\n", (const char*)arg, (int)fd, what);
}

static void exit_cb(evutil_socket_t fd, short what, void* arg) {
  struct event_base* base = arg;
  printf("loopexit from a callback: %d\n", event_base_loopexit(base, NULL));
}

static void break_cb(evutil_socket_t fd, short what, void* arg) {
  struct event_base* base = arg;
  printf("loopbreak from a callback: %d\n", event_base_loopbreak(base));
}

static void never_cb(evutil_socket_t fd, short what, void* arg) {
  printf("this callback must not run (%s)\n", (const char*)arg);
}

static char order_log[64];
static void prio_cb(evutil_socket_t fd, short what, void* arg) { strcat(order_log, (const char*)arg); }

static int count_cb(const struct event_base* base, const struct event* ev, void* arg) {
  int* n = arg;
  ++*n;
  return 0;
}

static int stop_cb(const struct event_base* base, const struct event* ev, void* arg) { return 42; }

static void active_cb(evutil_socket_t fd, short what, void* arg) {
  printf("activated by hand: what=0x%x arg=%s\n", what, (const char*)arg);
}

int main(void) {
  struct event_base* base = event_base_new();
  struct timeval t10 = {0, 10000}, t30 = {0, 30000}, t20 = {0, 20000}, t1 = {0, 1000};
  struct timeval tv;
  int ids[3] = {1, 2, 3};
  struct event* t[3];
  struct event_base* b_out;
  evutil_socket_t fd_out;
  short ev_out;
  event_callback_fn cb_out;
  void* arg_out;
  int i, n;

  printf("method: %s\n", event_base_get_method(base));
  printf("dispatch with nothing: %d\n", event_base_dispatch(base));

  /* Timers fire in deadline order, not in the order they were added. */
  t[0] = evtimer_new(base, record_cb, &ids[0]);
  t[1] = evtimer_new(base, record_cb, &ids[1]);
  t[2] = evtimer_new(base, record_cb, &ids[2]);
  printf("initialized: %d, pending before add: %d\n", event_initialized(t[0]), evtimer_pending(t[0], NULL));
  evtimer_add(t[0], &t30);
  evtimer_add(t[1], &t10);
  evtimer_add(t[2], &t20);
  memset(&tv, 0, sizeof(tv));
  n = evtimer_pending(t[0], &tv) != 0;
  printf("pending after add: %d (timeout flag 0x%x), tv filled: %d\n", n,
         event_pending(t[0], EV_TIMEOUT | EV_READ, NULL), tv.tv_sec > 0);
  printf("added events: %d, active: %d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
         event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
  n = 0;
  i = event_base_foreach_event(base, count_cb, &n);
  printf("foreach: %d, visited %d\n", i, n);
  printf("foreach stopped early: %d\n", event_base_foreach_event(base, stop_cb, NULL));
  printf("dispatch: %d\n", event_base_dispatch(base));
  printf("order: %d %d %d\n", fired_order[0], fired_order[1], fired_order[2]);
  printf("pending after firing: %d\n", evtimer_pending(t[0], NULL));

  /* Getters and re-assignment. */
  event_get_assignment(t[1], &b_out, &fd_out, &ev_out, &cb_out, &arg_out);
  printf("assignment: base ok %d, fd %d, events 0x%x, cb ok %d, arg ok %d\n", b_out == base, (int)fd_out,
         ev_out, cb_out == record_cb, arg_out == &ids[1]);
  printf("event_assign on an idle event: %d\n",
         event_assign(t[1], base, -1, EV_PERSIST, never_cb, "reassigned"));
  printf("after assign: events 0x%x, callback replaced %d, fd %d, priority %d\n", event_get_events(t[1]),
         event_get_callback(t[1]) == never_cb, (int)event_get_fd(t[1]), event_get_priority(t[1]));
  for (i = 0; i < 3; ++i) event_free(t[i]);

  /* event_self_cbarg. */
  {
    struct event* self = evtimer_new(base, self_cb, event_self_cbarg());
    evtimer_add(self, &t1);
    event_base_dispatch(base);
    event_free(self);
  }

  /* A persistent timer runs until it deletes itself. */
  {
    struct event* p = event_new(base, -1, EV_PERSIST, persist_cb, event_self_cbarg());
    event_add(p, &t1);
    n = event_base_dispatch(base);
    printf("dispatch: %d, runs %d\n", n, persist_count);
    event_free(p);
  }

  /* event_base_once: a bare EV_TIMEOUT fires at once; signals and persistence refused. */
  printf("once timer: %d\n", event_base_once(base, -1, EV_TIMEOUT, once_cb, "timer", NULL));
  printf("once with timeout: %d\n", event_base_once(base, -1, EV_TIMEOUT, once_cb, "later", &t10));
  printf("once EV_SIGNAL: %d\n", event_base_once(base, 2, EV_SIGNAL, once_cb, "x", NULL));
  printf("once EV_PERSIST: %d\n", event_base_once(base, -1, EV_TIMEOUT | EV_PERSIST, once_cb, "x", NULL));
  printf("once nothing: %d\n", event_base_once(base, -1, 0, once_cb, "x", NULL));
  printf("dispatch: %d\n", event_base_dispatch(base));

  /* Argument checks. */
  printf("event_new(EV_SIGNAL|EV_READ): %s\n",
         event_new(base, 2, EV_SIGNAL | EV_READ, never_cb, NULL) == NULL ? "NULL" : "an event");
  printf("priority_init(0): %d\n", event_base_priority_init(base, 0));
  printf("priority_init(256): %d\n", event_base_priority_init(base, 256));
  printf("priority_init(3): %d\n", event_base_priority_init(base, 3));
  printf("npriorities: %d\n", event_base_get_npriorities(base));

  /* Priorities: 0 runs first, whatever the order of activation. */
  {
    struct event* lo = evtimer_new(base, prio_cb, "L");
    struct event* mid = evtimer_new(base, prio_cb, "M");
    struct event* hi = evtimer_new(base, prio_cb, "H");
    printf("default priority: %d\n", event_get_priority(mid));
    printf("priority_set(-1): %d\n", event_priority_set(lo, -1));
    printf("priority_set(3): %d\n", event_priority_set(lo, 3));
    printf("priority_set(2): %d\n", event_priority_set(lo, 2));
    printf("priority_set(0): %d\n", event_priority_set(hi, 0));
    event_active(lo, EV_TIMEOUT, 1);
    event_active(mid, EV_TIMEOUT, 1);
    event_active(hi, EV_TIMEOUT, 1);
    printf("active now: %d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
    printf("priority_set on an active event: %d\n", event_priority_set(mid, 0));
    printf("priority_init while active: %d\n", event_base_priority_init(base, 2));
    event_base_loop(base, EVLOOP_NONBLOCK);
    printf("priority order: %s\n", order_log);
    event_free(lo);
    event_free(mid);
    event_free(hi);
  }

  /* event_active on an event that is not pending; del cancels an activation. */
  {
    struct event* a = event_new(base, -1, 0, active_cb, "a");
    struct event* b = event_new(base, -1, 0, never_cb, "deleted after event_active");
    event_active(a, EV_READ | EV_WRITE, 1);
    event_active(b, EV_TIMEOUT, 1);
    printf("pending reports the active flags: 0x%x\n",
           event_pending(a, EV_READ | EV_WRITE | EV_TIMEOUT, NULL));
    event_del(b);
    printf("loop once: %d\n", event_base_loop(base, EVLOOP_ONCE));
    event_free(a);
    event_free(b);
  }

  /* loopexit / loopbreak and what got_exit / got_break report. */
  {
    struct event* e = evtimer_new(base, exit_cb, base);
    struct event* keep = event_new(base, -1, EV_PERSIST, never_cb, "kept pending");
    struct timeval hour = {3600, 0};
    event_add(keep, &hour);
    evtimer_add(e, &t1);
    n = event_base_dispatch(base);
    printf("dispatch: %d, got_exit %d, got_break %d\n", n, event_base_got_exit(base),
           event_base_got_break(base));
    event_assign(e, base, -1, 0, break_cb, base);
    evtimer_add(e, &t1);
    n = event_base_dispatch(base);
    printf("dispatch: %d, got_exit %d, got_break %d\n", n, event_base_got_exit(base),
           event_base_got_break(base));
    printf("loopexit with a delay: %d\n", event_base_loopexit(base, &t10));
    n = event_base_dispatch(base);
    printf("dispatch: %d, got_exit %d, got_break %d\n", n, event_base_got_exit(base),
           event_base_got_break(base));
    event_del(keep);
    printf("added after del: %d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
    event_free(e);
    event_free(keep);
  }

  /* Common timeouts: same duration, same pointer; they fire like ordinary timeouts. */
  {
    const struct timeval* c1 = event_base_init_common_timeout(base, &t10);
    const struct timeval* c2 = event_base_init_common_timeout(base, &t10);
    struct event* a = evtimer_new(base, once_cb, "common timeout A");
    struct event* b = evtimer_new(base, once_cb, "common timeout B");
    printf("common timeout: same pointer %d\n", c1 == c2);
    evtimer_add(a, c1);
    evtimer_add(b, c1);
    printf("dispatch: %d\n", event_base_dispatch(base));
    event_free(a);
    event_free(b);
  }

  event_base_free(base);
  printf("done\n");
  return 0;
}
