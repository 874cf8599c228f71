// Acceptor: how clients get into one loop (muduo's Acceptor, libevent's evconnlistener user) —
// the loop's listening sockets (--listen, and --tls-listen on loop 0), their hand-over when a
// loop ends, the backlog taken in at a drain, and admission: whether a client may stay
// (draining, --max-connections, the fd reserve), with rejections and accept errors counted and
// logged at most once a second.
//
// With AcceptMode::kSingle (and for --tls-listen) one loop accepts and hands each client to a
// loop round-robin by posting it there (LoopWorker::adopt); that loop's Acceptor admits it.
// An admitted client goes to the `serve` callback, which makes it a Connection on this loop.
//
// Thread rule: loop thread only (the LoopWorker owns it), except where a method says "main
// thread, before run()" or "any thread".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "reactor/event_base.h"
#include "reactor/listener.h"
#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

namespace reactord {

struct Config;
struct LoopCounters;
struct CrossLoopState;

class Acceptor {
 public:
  // An admitted client, to be served on this loop: `tls` for a --tls-listen client.
  using Serve = std::function<void(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls)>;

  // Not listening yet. Main thread (LoopWorker's constructor).
  Acceptor(unsigned index, const Config& config, CrossLoopState& shared, reactor::EventBase& base,
           LoopCounters& counters, Serve serve);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Binds the --listen socket (SO_REUSEPORT when `reuse_port`) / --tls-listen's. Throw
  // std::system_error with the address in the message. Main thread, before run().
  void bind(const reactor::SocketAddress& address, bool reuse_port);
  void bind_tls(const reactor::SocketAddress& address);
  // Accepts on a listening socket opened elsewhere (Resume; taking over from a single acceptor
  // that ended). `enabled` false: listening (clients wait in the backlog) but not accepting yet.
  // Loop thread only (or before run()).
  void adopt_listener(reactor::UniqueFd fd, bool enabled = true);
  // Resume, step 1: listens again on `address` (and on --tls-listen's address for loop 0, or
  // for the first live loop when loop 0 ended), not accepting yet (enable() does). An error
  // line naming the flag, or nothing. Loop thread only.
  std::optional<std::string> relisten(const reactor::SocketAddress& address, bool reuse_port);
  // Drain: serves what already waits in the --listen backlog (bounded), each client admitted
  // although the server drains; then stop_listening() closes the sockets. Loop thread only.
  void accept_backlog();
  // Closes both listening sockets: a new client is refused by the kernel. Loop thread only.
  void stop_listening();
  // Starts accepting on sockets relisten() opened disabled. Loop thread only.
  void enable();
  // The loop ended: with AcceptMode::kSingle the --listen socket (its backlog included) moves
  // to a live loop unless the server stops, so that accepting goes on; else it closes.
  // Loop thread only.
  void hand_over();

  // A client accepted here or handed over by the accepting loop: admitted, then served on
  // this loop, or closed at once (the client sees EOF). Loop thread only.
  void take(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls);
  // Admission of a client about to be served here: false (counted as rejected, logged at
  // most once a second; the caller closes the fd) when the server drains (unless `admitted`
  // from the backlog at the drain's start), or when --max-connections or the fd reserve is
  // reached. True reserves a slot, which the connection's close gives back
  // (CrossLoopState::release_slot). Loop thread only.
  bool admit(const reactor::SocketAddress& peer, bool admitted);
  // A connection could not be set up (allocation, SSL_new): counted as rejected (setup_error).
  // Loop thread only.
  void count_setup_error();

  // The listeners (nullptr without one). Loop thread only.
  reactor::Listener* listener() { return listener_.get(); }
  reactor::Listener* tls_listener() { return tls_listener_.get(); }
  // The addresses accepted on (port resolved), unspecified without a listener. Set before the
  // loop runs; any thread.
  const reactor::SocketAddress& listen_address() const { return listen_address_; }
  const reactor::SocketAddress& tls_listen_address() const { return tls_listen_address_; }

 private:
  void on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& peer);
  void on_accept_tls(reactor::UniqueFd fd, const reactor::SocketAddress& peer);
  void on_accept_error(int error);
  void adopt_tls_listener(reactor::UniqueFd fd, bool enabled);
  void drop_listener();
  void drop_tls_listener();
  std::unique_ptr<reactor::Listener> make_listener(reactor::UniqueFd fd, bool enabled, bool tls);

  const unsigned index_;
  const Config& config_;
  CrossLoopState& shared_;
  reactor::EventBase& base_;
  LoopCounters& counters_;
  Serve serve_;
  std::unique_ptr<reactor::Listener> listener_;
  std::uint64_t listener_sheds_seen_ = 0;  // listener_->shed_count() already counted
  std::unique_ptr<reactor::Listener> tls_listener_;
  reactor::SocketAddress listen_address_;
  reactor::SocketAddress tls_listen_address_;
  // Log throttling for rejections and accept errors: one line per second at most.
  reactor::TimePoint last_reject_log_{};
  std::uint64_t rejects_since_log_ = 0;
};

}  // namespace reactord
