// struct evconnlistener on reactor::Listener. evconnlistener_new_bind makes the socket the
// way libevent does (SO_KEEPALIVE, the LEV_OPT_* socket options, bind) and hands it over.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <system_error>
#include <cstring>

#include "compat_internal.h"

using reactor_event::warn;

void evconnlistener::apply() {
  // libevent accepts only while enabled AND a callback is set.
  if (enabled && cb != nullptr) {
    listener->enable();
  } else {
    listener->disable();
  }
}

extern "C" {

struct evconnlistener* evconnlistener_new(struct event_base* base, evconnlistener_cb cb, void* ptr,
                                          unsigned flags, int backlog, evutil_socket_t fd) {
  if (base == nullptr || fd < 0) {
    errno = EINVAL;
    return nullptr;
  }
  if (backlog > 0) {
    if (::listen(fd, backlog) < 0) return nullptr;
  } else if (backlog < 0) {
    if (::listen(fd, 128) < 0) return nullptr;
  }
  reactor::ListenerOptions options = reactor::kLevOptDisabled;  // apply() enables
  if ((flags & LEV_OPT_LEAVE_SOCKETS_BLOCKING) != 0) options |= reactor::kLevOptLeaveSocketsBlocking;
  if ((flags & LEV_OPT_CLOSE_ON_FREE) != 0) options |= reactor::kLevOptCloseOnFree;
  auto* lev = new (std::nothrow) evconnlistener;
  if (lev == nullptr) return nullptr;
  lev->base = base;
  lev->cb = cb;
  lev->arg = ptr;
  lev->enabled = (flags & LEV_OPT_DISABLED) == 0;
  try {
    lev->listener = std::make_unique<reactor::Listener>(
        base->base, fd, options, [lev](reactor::UniqueFd conn, const reactor::SocketAddress& peer) {
          if (lev->cb == nullptr) return;  // conn closes
          sockaddr_storage ss{};
          std::memcpy(&ss, peer.get(), peer.length());
          lev->cb(lev, conn.release(), reinterpret_cast<sockaddr*>(&ss), static_cast<int>(peer.length()),
                  lev->arg);
        });
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    delete lev;
    return nullptr;
  }
  lev->listener->set_error_callback([lev](int error) {
    errno = error;
    if (lev->errorcb != nullptr) {
      lev->errorcb(lev, lev->arg);
    } else {
      warn("Error from accept() call: %s", std::strerror(error));
    }
  });
  lev->apply();
  return lev;
}

struct evconnlistener* evconnlistener_new_bind(struct event_base* base, evconnlistener_cb cb, void* ptr,
                                               unsigned flags, int backlog, const struct sockaddr* sa,
                                               int socklen) {
  if (base == nullptr) return nullptr;
  const int family = sa != nullptr ? sa->sa_family : AF_INET;
  int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
  const int fd = ::socket(family, type, 0);
  if (fd < 0) return nullptr;
  auto fail = [fd] {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return static_cast<evconnlistener*>(nullptr);
  };
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0) return fail();
  if ((flags & LEV_OPT_REUSEABLE) != 0 && evutil_make_listen_socket_reuseable(fd) < 0) return fail();
  if ((flags & LEV_OPT_REUSEABLE_PORT) != 0 && evutil_make_listen_socket_reuseable_port(fd) < 0) {
    return fail();
  }
  if ((flags & LEV_OPT_DEFERRED_ACCEPT) != 0 && evutil_make_tcp_listen_socket_deferred(fd) < 0) {
    return fail();
  }
  if ((flags & LEV_OPT_BIND_IPV6ONLY) != 0 && evutil_make_listen_socket_ipv6only(fd) < 0) return fail();
  if (sa != nullptr && ::bind(fd, sa, static_cast<socklen_t>(socklen)) < 0) return fail();
  // The socket made here is always closed with the listener.
  struct evconnlistener* lev = evconnlistener_new(base, cb, ptr, flags | LEV_OPT_CLOSE_ON_FREE, backlog, fd);
  if (lev == nullptr) return fail();
  return lev;
}

void evconnlistener_free(struct evconnlistener* lev) {
  if (lev == nullptr || lev->freed) return;
  lev->freed = true;
  lev->listener->disable();
  reactor_event::free_later(lev->base, std::unique_ptr<evconnlistener>(lev));
}

int evconnlistener_enable(struct evconnlistener* lev) {
  lev->enabled = true;
  lev->apply();
  return 0;
}

int evconnlistener_disable(struct evconnlistener* lev) {
  lev->enabled = false;
  lev->apply();
  return 0;
}

struct event_base* evconnlistener_get_base(struct evconnlistener* lev) {
  return lev->base;
}
evutil_socket_t evconnlistener_get_fd(struct evconnlistener* lev) { return lev->listener->fd(); }

void evconnlistener_set_cb(struct evconnlistener* lev, evconnlistener_cb cb, void* arg) {
  lev->cb = cb;
  lev->arg = arg;
  lev->apply();
}

void evconnlistener_set_error_cb(struct evconnlistener* lev, evconnlistener_errorcb errorcb) {
  lev->errorcb = errorcb;
}

}  // extern "C"
