/* event2/listener.h — libevent 2.1's evconnlistener, provided by reactord's compat layer on
 * reactor::Listener (accepts until EAGAIN, sheds connections instead of spinning at EMFILE).
 * Plain C. */
#ifndef REACTOR_EVENT2_LISTENER_H_INCLUDED_
#define REACTOR_EVENT2_LISTENER_H_INCLUDED_

#include <event2/event.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;
struct evconnlistener;

typedef void (*evconnlistener_cb)(struct evconnlistener*, evutil_socket_t, struct sockaddr*, int socklen,
                                  void*);
typedef void (*evconnlistener_errorcb)(struct evconnlistener*, void*);

#define LEV_OPT_LEAVE_SOCKETS_BLOCKING (1u << 0)
#define LEV_OPT_CLOSE_ON_FREE (1u << 1)
#define LEV_OPT_CLOSE_ON_EXEC (1u << 2) /* accepted sockets are always close-on-exec */
#define LEV_OPT_REUSEABLE (1u << 3)
#define LEV_OPT_THREADSAFE (1u << 4) /* accepted: one loop thread owns the listener */
#define LEV_OPT_DISABLED (1u << 5)
#define LEV_OPT_DEFERRED_ACCEPT (1u << 6)
#define LEV_OPT_REUSEABLE_PORT (1u << 7)
#define LEV_OPT_BIND_IPV6ONLY (1u << 8)

/* fd must be bound; backlog > 0: listen(fd, backlog), < 0: listen(fd, 128), 0: already
 * listening. NULL on error (errno). */
EVENT2_EXPORT_SYMBOL struct evconnlistener* evconnlistener_new(struct event_base* base, evconnlistener_cb cb,
                                                               void* ptr, unsigned flags, int backlog,
                                                               evutil_socket_t fd);
/* socket + bind + listen. NULL on error (errno, e.g. EADDRINUSE). */
EVENT2_EXPORT_SYMBOL struct evconnlistener* evconnlistener_new_bind(struct event_base* base,
                                                                    evconnlistener_cb cb, void* ptr,
                                                                    unsigned flags, int backlog,
                                                                    const struct sockaddr* sa, int socklen);
/* Safe from the listener's own callbacks. */
EVENT2_EXPORT_SYMBOL void evconnlistener_free(struct evconnlistener* lev);
EVENT2_EXPORT_SYMBOL int evconnlistener_enable(struct evconnlistener* lev);
EVENT2_EXPORT_SYMBOL int evconnlistener_disable(struct evconnlistener* lev);
EVENT2_EXPORT_SYMBOL struct event_base* evconnlistener_get_base(struct evconnlistener* lev);
EVENT2_EXPORT_SYMBOL evutil_socket_t evconnlistener_get_fd(struct evconnlistener* lev);
EVENT2_EXPORT_SYMBOL void evconnlistener_set_cb(struct evconnlistener* lev, evconnlistener_cb cb, void* arg);
/* Called with errno set when accept() fails. */
EVENT2_EXPORT_SYMBOL void evconnlistener_set_error_cb(struct evconnlistener* lev,
                                                      evconnlistener_errorcb errorcb);

#ifdef __cplusplus
}
#endif

#endif /* REACTOR_EVENT2_LISTENER_H_INCLUDED_ */
