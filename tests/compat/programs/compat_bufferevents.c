/* Bufferevents and a listener over loopback: connect, echo lines, watermarks, timeouts, EOF,
 * a refused connect, listener options and argument checks. Each side keeps its own log,
 * printed at the end: the order within a side is deterministic, the interleaving of the two
 * sides is not (on libevent either). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static char server_log[4096], client_log[4096];
static struct event_base* base;
static struct evconnlistener* listener;
static struct sockaddr_in addr;
static int accepted;

static void logf_(char* log, const char* fmt, ...) {
  va_list ap;
  size_t used = strlen(log);
  va_start(ap, fmt);
  vsnprintf(log + used, 4096 - used, fmt, ap);
  va_end(ap);
}
#define SLOG(...) logf_(server_log, __VA_ARGS__)
#define CLOG(...) logf_(client_log, __VA_ARGS__)

/* ---- server ---- */

static void free_when_flushed(struct bufferevent* bev, void* arg) { bufferevent_free(bev); }

static void server_read(struct bufferevent* bev, void* arg) {
  char* line;
  size_t len;
  while ((line = evbuffer_readln(bufferevent_get_input(bev), &len, EVBUFFER_EOL_LF)) != NULL) {
    SLOG("server got \"%s\"\n", line);
    if (strcmp(line, "bye") == 0) {
      bufferevent_write(bev, "closing\n", 8);
      bufferevent_disable(bev, EV_READ);
      /* free once the output is flushed */
      bufferevent_setcb(bev, NULL, free_when_flushed, NULL, NULL);
    } else {
      evbuffer_add_printf(bufferevent_get_output(bev), "echo: %s\n", line);
    }
    free(line);
  }
}

static void server_event(struct bufferevent* bev, short what, void* arg) {
  SLOG("server event 0x%x\n", what);
  bufferevent_free(bev);
}

static void accept_cb(struct evconnlistener* lev, evutil_socket_t fd, struct sockaddr* sa, int socklen,
                      void* arg) {
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  ++accepted;
  SLOG("accepted: family %s, socklen ok %d, listener base ok %d, enabled 0x%x\n",
       sa->sa_family == AF_INET ? "inet" : "other", socklen == (int)sizeof(struct sockaddr_in),
       evconnlistener_get_base(lev) == base, bufferevent_get_enabled(bev));
  bufferevent_setcb(bev, server_read, NULL, server_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- client ---- */

static int client_lines;
static void client_read(struct bufferevent* bev, void* arg) {
  char* line;
  while ((line = evbuffer_readln(bufferevent_get_input(bev), NULL, EVBUFFER_EOL_LF)) != NULL) {
    CLOG("client got \"%s\"\n", line);
    ++client_lines;
    if (client_lines == 1)
      bufferevent_write(bev, "second\n", 7);
    else if (client_lines == 2)
      bufferevent_write(bev, "bye\n", 4);
    free(line);
  }
}

static int client_writes;
static void client_write(struct bufferevent* bev, void* arg) { ++client_writes; }

static void client_event(struct bufferevent* bev, short what, void* arg) {
  CLOG("client event 0x%x\n", what);
  if (what & BEV_EVENT_CONNECTED) {
    CLOG("client fd valid %d, base ok %d\n", bufferevent_getfd(bev) >= 0, bufferevent_get_base(bev) == base);
    bufferevent_write(bev, "first\n", 6);
    return;
  }
  if (what & BEV_EVENT_EOF) {
    CLOG("client: eof after %d lines, %d write callbacks, reading enabled %d\n", client_lines,
         client_writes > 0, (bufferevent_get_enabled(bev) & EV_READ) != 0);
    bufferevent_free(bev);
    event_base_loopexit(base, NULL);
  }
}

/* ---- watermarks and timeouts ---- */

static void low_read(struct bufferevent* bev, void* arg) {
  SLOG("low-watermark reader: %zu bytes\n", evbuffer_get_length(bufferevent_get_input(bev)));
  evbuffer_drain(bufferevent_get_input(bev), 1000);
  event_base_loopexit(base, NULL);
}

static void wm_accept(struct evconnlistener* lev, evutil_socket_t fd, struct sockaddr* sa, int socklen,
                      void* arg) {
  struct bufferevent** out = arg;
  size_t lo, hi;
  *out = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(*out, low_read, NULL, server_event, NULL);
  bufferevent_setwatermark(*out, EV_READ, 10, 0);
  bufferevent_getwatermark(*out, EV_READ, &lo, &hi);
  SLOG("read watermarks %zu %zu, getwatermark(READ|WRITE) %d\n", lo, hi,
       bufferevent_getwatermark(*out, EV_READ | EV_WRITE, &lo, &hi));
  bufferevent_enable(*out, EV_READ);
}

static void send_more(evutil_socket_t fd, short what, void* arg) { bufferevent_write(arg, "567890", 6); }

static void timeout_event(struct bufferevent* bev, short what, void* arg) {
  CLOG("timeout client event 0x%x, reading still enabled %d\n", what,
       (bufferevent_get_enabled(bev) & EV_READ) != 0);
  if (what & BEV_EVENT_CONNECTED) return;
  event_base_loopexit(base, NULL);
}

static void refused_event(struct bufferevent* bev, short what, void* arg) {
  CLOG("refused client event 0x%x, errno is ECONNREFUSED %d\n", what, errno == ECONNREFUSED);
  bufferevent_free(bev);
  event_base_loopexit(base, NULL);
}

int main(void) {
  socklen_t len = sizeof(addr);
  struct bufferevent *client, *server_side = NULL;
  struct evconnlistener* second;
  struct timeval t20 = {0, 20000};
  int i, n;

  base = event_base_new();
  printf("method: %s\n", event_base_get_method(base));
  printf("UNLOCK_CALLBACKS alone: %s\n",
         bufferevent_socket_new(base, -1, BEV_OPT_UNLOCK_CALLBACKS) == NULL ? "NULL" : "made");

  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(0x7f000001);
  listener = evconnlistener_new_bind(base, accept_cb, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
                                     (struct sockaddr*)&addr, sizeof(addr));
  getsockname(evconnlistener_get_fd(listener), (struct sockaddr*)&addr, &len);
  printf("listener: %s, port bound %d\n", listener ? "made" : "NULL", addr.sin_port != 0);
  second = evconnlistener_new_bind(base, accept_cb, NULL, LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr*)&addr,
                                   sizeof(addr));
  printf("second listener on the same port: %s, EADDRINUSE %d\n", second ? "made" : "NULL",
         errno == EADDRINUSE);

  /* 1. Echo lines, then the server closes after "bye" and the client sees EOF. */
  client = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  printf("new client: fd %d, enabled 0x%x\n", bufferevent_getfd(client), bufferevent_get_enabled(client));
  bufferevent_setcb(client, client_read, client_write, client_event, NULL);
  bufferevent_enable(client, EV_READ | EV_WRITE);
  printf("connect: %d\n", bufferevent_socket_connect(client, (struct sockaddr*)&addr, sizeof(addr)));
  n = event_base_dispatch(base);
  printf("echo dispatch: %d\n%s%s", n, server_log, client_log);
  server_log[0] = client_log[0] = '\0';

  /* 2. Listener disabled: connections wait in the backlog until it is enabled again. */
  evconnlistener_disable(listener);
  evconnlistener_set_cb(listener, wm_accept, &server_side);
  client = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(client, NULL, NULL, timeout_event, NULL);
  bufferevent_socket_connect(client, (struct sockaddr*)&addr, sizeof(addr));
  for (i = 0; i < 5; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
  printf("accepted while disabled: %d\n", server_side != NULL);
  evconnlistener_enable(listener);

  /* 3. Read low watermark: 4 bytes, then 6 more: one read callback with 10. */
  bufferevent_write(client, "1234", 4);
  event_base_once(base, -1, EV_TIMEOUT, send_more, client, &t20);
  n = event_base_dispatch(base);
  printf("watermark dispatch: %d\n%s%s", n, server_log, client_log);
  server_log[0] = client_log[0] = '\0';

  /* 4. A read timeout on a quiet connection: TIMEOUT|READING, reading disabled. */
  bufferevent_set_timeouts(client, &t20, NULL);
  bufferevent_enable(client, EV_READ);
  n = event_base_dispatch(base);
  printf("timeout dispatch: %d\n%s", n, client_log);
  client_log[0] = '\0';
  bufferevent_free(client);
  bufferevent_free(server_side);

  /* 5. A refused connect is reported from the loop as BEV_EVENT_ERROR. */
  evconnlistener_free(listener);
  client = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(client, NULL, NULL, refused_event, NULL);
  printf("connect to a closed port: %d\n",
         bufferevent_socket_connect(client, (struct sockaddr*)&addr, sizeof(addr)));
  n = event_base_dispatch(base);
  printf("refused dispatch: %d\n%s", n, client_log);

  event_base_free(base);
  printf("done\n");
  return 0;
}
