/* event2/event.h — libevent 2.1's core API (event bases, events, timers, signals), provided by
 * reactord's compat layer (libreactor_event) on top of our reactor. Plain C.
 *
 * Semantics follow libevent 2.1.12; the deliberate differences are listed in
 * reactor/compat/README.md. Only what is declared here exists: a libevent function this
 * library does not provide fails at compile time, never at run time.
 *
 * Thread rule: as in libevent without evthread_use_pthreads(): a base and its events belong
 * to the thread that runs its loop. event_base_loopexit/loopbreak may be called from any
 * thread. */
#ifndef REACTOR_EVENT2_EVENT_H_INCLUDED_
#define REACTOR_EVENT2_EVENT_H_INCLUDED_

#include <event2/util.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct event;
struct event_config;

/* ---- Bases --------------------------------------------------------------------------------- */

EVENT2_EXPORT_SYMBOL struct event_base* event_base_new(void);
EVENT2_EXPORT_SYMBOL void event_base_free(struct event_base* base);
/* Like event_base_free: the reactor never frees events itself, so both are the same. */
EVENT2_EXPORT_SYMBOL void event_base_free_nofinalize(struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_reinit(struct event_base* base);

/* Configuration. Methods: "epoll" and "poll" ("select" is not available: avoiding both
 * epoll and poll makes event_base_new_with_config fail). */
enum event_method_feature {
  EV_FEATURE_ET = 0x01,
  EV_FEATURE_O1 = 0x02,
  EV_FEATURE_FDS = 0x04,
  EV_FEATURE_EARLY_CLOSE = 0x08
};
enum event_base_config_flag {
  EVENT_BASE_FLAG_NOLOCK = 0x01,
  EVENT_BASE_FLAG_IGNORE_ENV = 0x02,
  EVENT_BASE_FLAG_STARTUP_IOCP = 0x04,
  EVENT_BASE_FLAG_NO_CACHE_TIME = 0x08,
  EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST = 0x10,
  EVENT_BASE_FLAG_PRECISE_TIMER = 0x20
};
EVENT2_EXPORT_SYMBOL struct event_config* event_config_new(void);
EVENT2_EXPORT_SYMBOL void event_config_free(struct event_config* cfg);
EVENT2_EXPORT_SYMBOL int event_config_avoid_method(struct event_config* cfg, const char* method);
EVENT2_EXPORT_SYMBOL int event_config_require_features(struct event_config* cfg, int feature);
EVENT2_EXPORT_SYMBOL int event_config_set_flag(struct event_config* cfg, int flag);
EVENT2_EXPORT_SYMBOL int event_config_set_num_cpus_hint(struct event_config* cfg, int cpus);
EVENT2_EXPORT_SYMBOL struct event_base* event_base_new_with_config(const struct event_config* cfg);

EVENT2_EXPORT_SYMBOL const char* event_base_get_method(const struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_base_get_features(const struct event_base* base);
EVENT2_EXPORT_SYMBOL const char** event_get_supported_methods(void);
EVENT2_EXPORT_SYMBOL const char* event_get_version(void);
EVENT2_EXPORT_SYMBOL ev_uint32_t event_get_version_number(void);

/* ---- Loop ---------------------------------------------------------------------------------- */

#define EVLOOP_ONCE 0x01
#define EVLOOP_NONBLOCK 0x02
#define EVLOOP_NO_EXIT_ON_EMPTY 0x04

/* 0: ended by loopexit/loopbreak (or ONCE/NONBLOCK done); 1: no events left; -1: error. */
EVENT2_EXPORT_SYMBOL int event_base_dispatch(struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_base_loop(struct event_base* base, int flags);
/* Any thread. */
EVENT2_EXPORT_SYMBOL int event_base_loopexit(struct event_base* base, const struct timeval* tv);
EVENT2_EXPORT_SYMBOL int event_base_loopbreak(struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_base_loopcontinue(struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_base_got_exit(struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_base_got_break(struct event_base* base);

/* ---- Events -------------------------------------------------------------------------------- */

#define EV_TIMEOUT 0x01
#define EV_READ 0x02
#define EV_WRITE 0x04
#define EV_SIGNAL 0x08
#define EV_PERSIST 0x10
#define EV_ET 0x20
#define EV_CLOSED 0x80

typedef void (*event_callback_fn)(evutil_socket_t, short, void*);

/* Pass as the callback argument to get the event itself as the argument. */
EVENT2_EXPORT_SYMBOL void* event_self_cbarg(void);

EVENT2_EXPORT_SYMBOL struct event* event_new(struct event_base* base, evutil_socket_t fd, short events,
                                             event_callback_fn callback, void* callback_arg);
/* Re-initializes an event made by event_new, or memory of event_get_struct_event_size()
 * bytes (there is no event_struct.h: events live on the heap). Not on a pending event. */
EVENT2_EXPORT_SYMBOL int event_assign(struct event* ev, struct event_base* base, evutil_socket_t fd,
                                      short events, event_callback_fn callback, void* callback_arg);
EVENT2_EXPORT_SYMBOL size_t event_get_struct_event_size(void);
EVENT2_EXPORT_SYMBOL void event_free(struct event* ev);
EVENT2_EXPORT_SYMBOL int event_add(struct event* ev, const struct timeval* timeout);
EVENT2_EXPORT_SYMBOL int event_del(struct event* ev);
EVENT2_EXPORT_SYMBOL void event_active(struct event* ev, int res, short ncalls);
EVENT2_EXPORT_SYMBOL int event_pending(const struct event* ev, short events, struct timeval* tv);
EVENT2_EXPORT_SYMBOL int event_initialized(const struct event* ev);
EVENT2_EXPORT_SYMBOL void event_debug_unassign(struct event* ev);

EVENT2_EXPORT_SYMBOL evutil_socket_t event_get_fd(const struct event* ev);
EVENT2_EXPORT_SYMBOL struct event_base* event_get_base(const struct event* ev);
EVENT2_EXPORT_SYMBOL short event_get_events(const struct event* ev);
EVENT2_EXPORT_SYMBOL event_callback_fn event_get_callback(const struct event* ev);
EVENT2_EXPORT_SYMBOL void* event_get_callback_arg(const struct event* ev);
EVENT2_EXPORT_SYMBOL int event_get_priority(const struct event* ev);
EVENT2_EXPORT_SYMBOL void event_get_assignment(const struct event* event, struct event_base** base_out,
                                               evutil_socket_t* fd_out, short* events_out,
                                               event_callback_fn* callback_out, void** arg_out);
#define event_get_signal(ev) ((int)event_get_fd(ev))

EVENT2_EXPORT_SYMBOL int event_base_once(struct event_base* base, evutil_socket_t fd, short events,
                                         event_callback_fn callback, void* arg,
                                         const struct timeval* timeout);

/* Timers. */
#define evtimer_assign(ev, b, cb, arg) event_assign((ev), (b), -1, 0, (cb), (arg))
#define evtimer_new(b, cb, arg) event_new((b), -1, 0, (cb), (arg))
#define evtimer_add(ev, tv) event_add((ev), (tv))
#define evtimer_del(ev) event_del(ev)
#define evtimer_pending(ev, tv) event_pending((ev), EV_TIMEOUT, (tv))
#define evtimer_initialized(ev) event_initialized(ev)

/* Signals. */
#define evsignal_add(ev, tv) event_add((ev), (tv))
#define evsignal_assign(ev, b, x, cb, arg) event_assign((ev), (b), (x), EV_SIGNAL | EV_PERSIST, cb, (arg))
#define evsignal_new(b, x, cb, arg) event_new((b), (x), EV_SIGNAL | EV_PERSIST, (cb), (arg))
#define evsignal_del(ev) event_del(ev)
#define evsignal_pending(ev, tv) event_pending((ev), EV_SIGNAL, (tv))
#define evsignal_initialized(ev) event_initialized(ev)

/* Priorities: 0 is the most urgent; new events get n/2. */
#define EVENT_MAX_PRIORITIES 256
EVENT2_EXPORT_SYMBOL int event_base_priority_init(struct event_base* base, int npriorities);
EVENT2_EXPORT_SYMBOL int event_base_get_npriorities(struct event_base* base);
EVENT2_EXPORT_SYMBOL int event_priority_set(struct event* ev, int priority);

/* Common timeouts: many timers of one duration, O(1) each. */
EVENT2_EXPORT_SYMBOL const struct timeval* event_base_init_common_timeout(struct event_base* base,
                                                                          const struct timeval* duration);

/* Time as the loop sees it (cached once per iteration), as wall-clock time. */
EVENT2_EXPORT_SYMBOL int event_base_gettimeofday_cached(struct event_base* base, struct timeval* tv);
EVENT2_EXPORT_SYMBOL int event_base_update_cache_time(struct event_base* base);

/* ---- Looking inside a base ----------------------------------------------------------------- */

#define EVENT_BASE_COUNT_ACTIVE 1U
#define EVENT_BASE_COUNT_VIRTUAL 2U
#define EVENT_BASE_COUNT_ADDED 4U
EVENT2_EXPORT_SYMBOL int event_base_get_num_events(struct event_base* base, unsigned int flags);

/* Calls fn for each added or active event made with event_new/event_assign, until fn returns
 * non-zero (that value is returned). fn must not add, delete or free events. */
typedef int (*event_base_foreach_event_cb)(const struct event_base*, const struct event*, void*);
EVENT2_EXPORT_SYMBOL int event_base_foreach_event(struct event_base* base, event_base_foreach_event_cb fn,
                                                  void* arg);

/* ---- Logging ------------------------------------------------------------------------------- */

#define EVENT_LOG_DEBUG 0
#define EVENT_LOG_MSG 1
#define EVENT_LOG_WARN 2
#define EVENT_LOG_ERR 3
typedef void (*event_log_cb)(int severity, const char* msg);
/* Warnings (bad arguments, refused operations) go to cb, or "[warn] ..." on stderr. */
EVENT2_EXPORT_SYMBOL void event_set_log_callback(event_log_cb cb);
/* Accepted for compatibility; the reactor's own checks are always on in debug builds. */
EVENT2_EXPORT_SYMBOL void event_enable_debug_mode(void);

#ifdef __cplusplus
}
#endif

#endif /* REACTOR_EVENT2_EVENT_H_INCLUDED_ */
