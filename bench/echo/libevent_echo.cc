// libevent_echo: the libevent reference server of the echo benchmark. What a libevent user
// writes for reactord's protocol: evconnlistener + one bufferevent per connection, the
// greeting on connect, and every read moved to the output with evbuffer_add_buffer.
// SIGINT/SIGTERM end the loop. SIGPIPE is ignored, as every libevent server must: evbuffer
// writes with writev(), and a client that leaves while its echo is in flight would kill us.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <csignal>
#include <cstdio>

#include "echo_args.h"

namespace {

const bench::EchoArgs* g_args = nullptr;

void on_read(bufferevent* bev, void*) {
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

void on_event(bufferevent* bev, short what, void*) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  event_base* base = evconnlistener_get_base(listener);
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    evutil_closesocket(fd);
    return;
  }
  bufferevent_setcb(bev, on_read, nullptr, on_event, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  bufferevent_write(bev, g_args->greeting.data(), g_args->greeting.size());
}

void on_signal(evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); }

}  // namespace

int main(int argc, char** argv) {
  bench::EchoArgs args = bench::parse_echo_args(argc, argv);
  g_args = &args;
  std::signal(SIGPIPE, SIG_IGN);
  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "libevent_echo: event_base_new failed\n");
    return 1;
  }
  int fd = bench::listen_loopback(args);
  bench::start_idle_threads(args);
  // backlog 0: the socket is already listening.
  evconnlistener* listener = evconnlistener_new(base, on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE, 0, fd);
  event* sigint = evsignal_new(base, SIGINT, on_signal, base);
  event* sigterm = evsignal_new(base, SIGTERM, on_signal, base);
  if (listener == nullptr || sigint == nullptr || sigterm == nullptr || event_add(sigint, nullptr) != 0 ||
      event_add(sigterm, nullptr) != 0) {
    std::fprintf(stderr, "libevent_echo: setup failed\n");
    return 1;
  }
  event_base_dispatch(base);
  event_free(sigint);
  event_free(sigterm);
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}
