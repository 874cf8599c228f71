// Listener: libevent's evconnlistener. Accepts connections on a bound socket and hands each
// new fd to a callback.
//
// Accept loop: accept4(NONBLOCK|CLOEXEC) until EAGAIN, but at most max_accepts_per_wakeup per
// readiness so other events are not starved. On EMFILE/ENFILE a reserved spare fd is closed to
// accept-and-close the excess connection, the error callback is told, and the listener does not
// spin (muduo's Acceptor).
//
// Thread rule: loop thread only, for every method (the loop of its EventBase).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

namespace reactor {

class EventBase;

// LEV_OPT_*.
using ListenerOptions = unsigned;
inline constexpr ListenerOptions kLevOptLeaveSocketsBlocking = 0x01;  // LEV_OPT_LEAVE_SOCKETS_BLOCKING
inline constexpr ListenerOptions kLevOptCloseOnFree = 0x02;           // LEV_OPT_CLOSE_ON_FREE
inline constexpr ListenerOptions kLevOptReuseable = 0x08;             // LEV_OPT_REUSEABLE
inline constexpr ListenerOptions kLevOptReusePort = 0x40;             // LEV_OPT_REUSEABLE_PORT
inline constexpr ListenerOptions kLevOptDisabled = 0x20;              // LEV_OPT_DISABLED

class Listener {
 public:
  // The new connection's fd (the callback owns it) and its peer address.
  using AcceptCallback = std::function<void(UniqueFd fd, const SocketAddress& peer)>;
  // An accept error (errno). For EMFILE/ENFILE the excess connection was already shed.
  using ErrorCallback = std::function<void(int error)>;

  // evconnlistener_new_bind: socket + bind + listen. backlog -1 = a sensible default
  // (SOMAXCONN). Throws std::system_error with the reason (e.g. EADDRINUSE). Loop thread only.
  Listener(EventBase& base, const SocketAddress& address, ListenerOptions options, int backlog,
           AcceptCallback cb);
  // evconnlistener_new: wraps an fd that is already bound and listening. With
  // kLevOptCloseOnFree the listener owns it. Loop thread only.
  Listener(EventBase& base, int listening_fd, ListenerOptions options, AcceptCallback cb);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // evconnlistener_set_error_cb. Loop thread only.
  void set_error_callback(ErrorCallback cb);
  // evconnlistener_set_cb. Loop thread only.
  void set_accept_callback(AcceptCallback cb);
  // evconnlistener_enable / disable: start / stop accepting (pending connections wait in the
  // kernel backlog). Loop thread only.
  void enable();
  void disable();
  bool enabled() const;

  // How many connections to accept per readiness at most (default 64). Loop thread only.
  void set_max_accepts_per_wakeup(int n);

  // Accepts up to `max` connections now, enabled or not, as a readiness would: each through
  // `batch_cb` when given (this call's own callback: the batch is handled apart from the
  // listener's usual clients, with no mode flag in the owner), else the accept callback;
  // EMFILE/ENFILE shed with the spare fd, other errors reported and backed off from. A
  // graceful stop serves the backlog it found this way, then closes the socket (HAProxy's
  // soft-stop; accepting until EAGAIN would let a connect flood keep it open). Returns how
  // many reached a callback. No libevent equivalent. Loop thread only.
  std::size_t accept_pending(std::size_t max, const AcceptCallback& batch_cb = {});

  // evconnlistener_get_fd, and the address actually bound (port 0 resolved). Loop thread only.
  int fd() const;
  SocketAddress local_address() const;
  // Connections shed because of EMFILE/ENFILE, and other accept errors, since creation.
  std::uint64_t shed_count() const;
  std::uint64_t error_count() const;

  // Owner tag / label for the accept event in EventBase::snapshot(). Loop thread only.
  void set_owner(std::uint64_t owner);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reactor
