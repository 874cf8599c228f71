/* event2/bufferevent.h — libevent 2.1's socket bufferevents, provided by reactord's compat
 * layer on reactor::BufferEvent. Plain C. Only socket bufferevents exist (no filters, pairs,
 * SSL, rate limits or bufferevent_socket_connect_hostname: those fail at compile time). */
#ifndef REACTOR_EVENT2_BUFFEREVENT_H_INCLUDED_
#define REACTOR_EVENT2_BUFFEREVENT_H_INCLUDED_

#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bufferevent;
struct event_base;
struct evbuffer;
struct sockaddr;

#define BEV_EVENT_READING 0x01
#define BEV_EVENT_WRITING 0x02
#define BEV_EVENT_EOF 0x10
#define BEV_EVENT_ERROR 0x20 /* errno says which */
#define BEV_EVENT_TIMEOUT 0x40
#define BEV_EVENT_CONNECTED 0x80

typedef void (*bufferevent_data_cb)(struct bufferevent* bev, void* ctx);
typedef void (*bufferevent_event_cb)(struct bufferevent* bev, short what, void* ctx);

enum bufferevent_options {
  BEV_OPT_CLOSE_ON_FREE = (1 << 0),
  BEV_OPT_THREADSAFE = (1 << 1), /* accepted: one loop thread owns the bufferevent */
  BEV_OPT_DEFER_CALLBACKS = (1 << 2),
  BEV_OPT_UNLOCK_CALLBACKS = (1 << 3) /* accepted, needs DEFER_CALLBACKS as in libevent */
};

EVENT2_EXPORT_SYMBOL struct bufferevent* bufferevent_socket_new(struct event_base* base, evutil_socket_t fd,
                                                                int options);
EVENT2_EXPORT_SYMBOL int bufferevent_socket_connect(struct bufferevent* bev, const struct sockaddr* sa,
                                                    int socklen);
/* Safe from the bufferevent's own callbacks: it is released at the end of the iteration. */
EVENT2_EXPORT_SYMBOL void bufferevent_free(struct bufferevent* bufev);

EVENT2_EXPORT_SYMBOL void bufferevent_setcb(struct bufferevent* bufev, bufferevent_data_cb readcb,
                                            bufferevent_data_cb writecb, bufferevent_event_cb eventcb,
                                            void* cbarg);
EVENT2_EXPORT_SYMBOL void bufferevent_getcb(struct bufferevent* bufev, bufferevent_data_cb* readcb_ptr,
                                            bufferevent_data_cb* writecb_ptr,
                                            bufferevent_event_cb* eventcb_ptr, void** cbarg_ptr);

EVENT2_EXPORT_SYMBOL evutil_socket_t bufferevent_getfd(struct bufferevent* bufev);
EVENT2_EXPORT_SYMBOL struct event_base* bufferevent_get_base(struct bufferevent* bev);

EVENT2_EXPORT_SYMBOL int bufferevent_write(struct bufferevent* bufev, const void* data, size_t size);
EVENT2_EXPORT_SYMBOL int bufferevent_write_buffer(struct bufferevent* bufev, struct evbuffer* buf);
EVENT2_EXPORT_SYMBOL size_t bufferevent_read(struct bufferevent* bufev, void* data, size_t size);
EVENT2_EXPORT_SYMBOL int bufferevent_read_buffer(struct bufferevent* bufev, struct evbuffer* buf);
EVENT2_EXPORT_SYMBOL struct evbuffer* bufferevent_get_input(struct bufferevent* bufev);
EVENT2_EXPORT_SYMBOL struct evbuffer* bufferevent_get_output(struct bufferevent* bufev);

EVENT2_EXPORT_SYMBOL int bufferevent_enable(struct bufferevent* bufev, short event);
EVENT2_EXPORT_SYMBOL int bufferevent_disable(struct bufferevent* bufev, short event);
EVENT2_EXPORT_SYMBOL short bufferevent_get_enabled(struct bufferevent* bufev);

EVENT2_EXPORT_SYMBOL int bufferevent_set_timeouts(struct bufferevent* bufev,
                                                  const struct timeval* timeout_read,
                                                  const struct timeval* timeout_write);
EVENT2_EXPORT_SYMBOL void bufferevent_setwatermark(struct bufferevent* bufev, short events, size_t lowmark,
                                                   size_t highmark);
EVENT2_EXPORT_SYMBOL int bufferevent_getwatermark(struct bufferevent* bufev, short events, size_t* lowmark,
                                                  size_t* highmark);

enum bufferevent_flush_mode { BEV_NORMAL = 0, BEV_FLUSH = 1, BEV_FINISHED = 2 };
/* Socket bufferevents have nothing to flush (as in libevent): returns 0. */
EVENT2_EXPORT_SYMBOL int bufferevent_flush(struct bufferevent* bufev, short iotype,
                                           enum bufferevent_flush_mode mode);

#ifdef __cplusplus
}
#endif

#endif /* REACTOR_EVENT2_BUFFEREVENT_H_INCLUDED_ */
