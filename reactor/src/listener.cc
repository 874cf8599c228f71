// Listener (evconnlistener): a persistent read event on a listening socket; each readiness
// accepts until EAGAIN or max_accepts_per_wakeup.
//
// EMFILE/ENFILE (muduo's Acceptor): the pending connection would stay in the backlog and, the
// event being level-triggered, wake us again at once — a 100% CPU spin. So we keep one spare
// fd (/dev/null): close it, accept the excess connection and close it at once (the client sees
// EOF), report EMFILE, reopen the spare. If even the spare cannot be had (ENFILE: the whole
// system is out of files), accepting pauses for kAcceptBackoff instead of spinning; so does
// any other accept error that is not transient (ENOBUFS, ENOMEM, EINVAL).
#include "reactor/listener.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/sys_calls.h"
#include "socket_ops.h"

namespace reactor {
namespace {

constexpr int kDefaultMaxAccepts = 64;
constexpr Duration kAcceptBackoff = std::chrono::milliseconds(100);

UniqueFd open_spare() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::system_category(), what);
}

UniqueFd bind_and_listen(const SocketAddress& address, ListenerOptions options, int backlog) {
  if (address.family() != AF_INET && address.family() != AF_INET6) {
    throw std::invalid_argument("Listener: address must be IPv4 or IPv6");
  }
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno(errno, "socket");
  const int one = 1;
  if ((options & kLevOptReuseable) != 0 &&
      sys().setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    throw_errno(errno, "setsockopt(SO_REUSEADDR)");
  }
  if ((options & kLevOptReusePort) != 0 &&
      sys().setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    throw_errno(errno, "setsockopt(SO_REUSEPORT)");
  }
  if (::bind(fd.get(), address.get(), address.length()) != 0) {
    throw_errno(errno, "bind " + address.to_string());
  }
  if (::listen(fd.get(), backlog < 0 ? SOMAXCONN : backlog) != 0) {
    throw_errno(errno, "listen " + address.to_string());
  }
  return fd;
}

bool retriable_accept_error(int error) {
  // The connection was aborted between readiness and accept, or a signal interrupted us.
  return error == EINTR || error == ECONNABORTED || error == EPROTO;
}

}  // namespace

struct Listener::Impl {
  Impl(EventBase& b, int listening_fd, ListenerOptions opts, AcceptCallback on_accept)
      : base(b), fd(listening_fd), options(opts), accept_cb(std::move(on_accept)), spare(open_spare()) {}

  ~Impl() {
    accept_event.reset();
    backoff_timer.reset();
    if ((options & kLevOptCloseOnFree) != 0 && fd >= 0) sys().close(fd);
  }

  void start() {
    accept_event =
        std::make_unique<Event>(base, fd, kRead | kPersist, [this](int, EventFlags) { on_readable(); });
    accept_event->set_label("listener");
    if ((options & kLevOptDisabled) == 0) enable();
  }

  void enable() {
    want_enabled = true;
    if (!backing_off) accept_event->add();
  }

  void disable() {
    want_enabled = false;
    accept_event->del();
  }

  void on_readable() {
    accept_batch(static_cast<std::size_t>(max_accepts), /*even_disabled=*/false, nullptr);
  }

  // Accepts up to `limit` connections, each handed to `batch_cb` if set, else to the accept
  // callback. A readiness stops when the callback disabled the listener; accept_pending (a
  // drain's last batch) accepts regardless. Returns how many reached a callback.
  std::size_t accept_batch(std::size_t limit, bool even_disabled, const AcceptCallback* batch_cb) {
    const int flags = SOCK_CLOEXEC | ((options & kLevOptLeaveSocketsBlocking) ? 0 : SOCK_NONBLOCK);
    std::size_t delivered = 0;
    for (std::size_t i = 0; i < limit && (even_disabled || want_enabled) && !backing_off; ++i) {
      sockaddr_storage ss{};
      socklen_t len = sizeof(ss);
      const int cfd = sys().accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, flags);
      if (cfd >= 0) {
        SocketAddress peer(reinterpret_cast<const sockaddr*>(&ss), len);
        if (batch_cb != nullptr) {
          (*batch_cb)(UniqueFd(cfd), peer);  // the caller's, alive for the whole call
        } else {
          deliver(UniqueFd(cfd), peer);
        }
        ++delivered;
        continue;
      }
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return delivered;
      if (retriable_accept_error(error)) continue;
      if (error == EMFILE || error == ENFILE) {
        shed_one(error);
        continue;
      }
      // ENOBUFS, ENOMEM, or a socket that is not listening (EINVAL): the readiness stays, so
      // retrying at once would spin. Report and pause.
      ++errors;
      report(error);
      start_backoff();
      return delivered;
    }
    return delivered;
  }

  // The callback may replace the callbacks (set_accept_callback) while it runs: run it from a
  // local so the running std::function is never destroyed under itself.
  void deliver(UniqueFd cfd, const SocketAddress& peer) {
    if (!accept_cb) return;  // no one to hand it to: UniqueFd closes it
    AcceptCallback cb;
    cb.swap(accept_cb);
    const unsigned generation = cb_generation;
    cb(std::move(cfd), peer);
    if (generation == cb_generation) cb.swap(accept_cb);
  }

  void report(int error) {
    if (!error_cb) return;
    ErrorCallback cb;
    cb.swap(error_cb);
    const unsigned generation = cb_generation;
    cb(error);
    if (generation == cb_generation) cb.swap(error_cb);
  }

  // Out of fds: give up the spare, accept the excess connection and close it, take the spare
  // back. Without a spare, pause accepting for a while rather than spin on the readiness.
  void shed_one(int error) {
    if (!spare) spare = open_spare();
    if (spare) {
      spare.reset();
      UniqueFd victim(sys().accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
      const int accept_error = victim ? 0 : errno;
      victim.reset();
      spare = open_spare();
      if (accept_error == 0) {
        ++shed_connections;
        report(error);
        if (spare) return;
      } else if ((accept_error == EAGAIN || accept_error == EWOULDBLOCK ||
                  retriable_accept_error(accept_error)) &&
                 spare) {
        return;  // the connection went away by itself
      }
    }
    // No spare (or the victim could not be accepted): back off.
    ++errors;
    report(error);
    start_backoff();
  }

  void start_backoff() {
    if (backing_off) return;
    backing_off = true;
    accept_event->del();
    if (!backoff_timer) {
      backoff_timer = Event::timer(base, [this](int, EventFlags) {
        backing_off = false;
        if (!spare) spare = open_spare();
        if (want_enabled) accept_event->add();
      });
      backoff_timer->set_label("listener.backoff");
      backoff_timer->set_owner(accept_event->owner());
    }
    backoff_timer->add(kAcceptBackoff);
  }

  EventBase& base;
  int fd;
  ListenerOptions options;
  AcceptCallback accept_cb;
  ErrorCallback error_cb;
  unsigned cb_generation = 0;
  UniqueFd spare;
  std::unique_ptr<Event> accept_event;
  std::unique_ptr<Event> backoff_timer;
  int max_accepts = kDefaultMaxAccepts;
  bool want_enabled = false;
  bool backing_off = false;
  std::uint64_t shed_connections = 0;
  std::uint64_t errors = 0;
};

Listener::Listener(EventBase& base, const SocketAddress& address, ListenerOptions options, int backlog,
                   AcceptCallback cb) {
  base.assert_in_loop_thread();
  UniqueFd fd = bind_and_listen(address, options, backlog);
  // We made this socket: it is ours to close whatever the options say.
  impl_ = std::make_unique<Impl>(base, fd.release(), options | kLevOptCloseOnFree, std::move(cb));
  impl_->start();
}

Listener::Listener(EventBase& base, int listening_fd, ListenerOptions options, AcceptCallback cb) {
  base.assert_in_loop_thread();
  if (listening_fd < 0) throw std::invalid_argument("Listener: invalid fd");
  // Accepting until EAGAIN needs a non-blocking listening socket.
  if (!net::set_nonblocking(listening_fd)) throw_errno(errno, "fcntl(O_NONBLOCK)");
  impl_ = std::make_unique<Impl>(base, listening_fd, options, std::move(cb));
  impl_->start();
}

Listener::~Listener() = default;

void Listener::set_error_callback(ErrorCallback cb) {
  ++impl_->cb_generation;
  impl_->error_cb = std::move(cb);
}

void Listener::set_accept_callback(AcceptCallback cb) {
  ++impl_->cb_generation;
  impl_->accept_cb = std::move(cb);
}

void Listener::enable() { impl_->enable(); }
void Listener::disable() { impl_->disable(); }
bool Listener::enabled() const { return impl_->want_enabled; }

void Listener::set_max_accepts_per_wakeup(int n) { impl_->max_accepts = n < 1 ? 1 : n; }

std::size_t Listener::accept_pending(std::size_t max, const AcceptCallback& batch_cb) {
  return impl_->accept_batch(max, /*even_disabled=*/true, batch_cb ? &batch_cb : nullptr);
}

int Listener::fd() const { return impl_->fd; }
SocketAddress Listener::local_address() const { return SocketAddress::local_of(impl_->fd); }
std::uint64_t Listener::shed_count() const { return impl_->shed_connections; }
std::uint64_t Listener::error_count() const { return impl_->errors; }

void Listener::set_owner(std::uint64_t owner) {
  impl_->accept_event->set_owner(owner);
  if (impl_->backoff_timer) impl_->backoff_timer->set_owner(owner);
}

}  // namespace reactor
