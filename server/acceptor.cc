#include "server/acceptor.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "reactor/sys_calls.h"
#include "server/config.h"
#include "server/listen_socket.h"
#include "server/loop_counters.h"
#include "server/loop_worker.h"
#include "server/server.h"
#include "server/cross_loop_state.h"

namespace reactord {

Acceptor::Acceptor(unsigned index, const Config& config, CrossLoopState& shared, reactor::EventBase& base,
                   LoopCounters& counters, Serve serve)
    : index_(index),
      config_(config),
      shared_(shared),
      base_(base),
      counters_(counters),
      serve_(std::move(serve)) {}

Acceptor::~Acceptor() = default;

void Acceptor::bind(const reactor::SocketAddress& address, bool reuse_port) {
  adopt_listener(open_listen_socket(address, reuse_port));
}

void Acceptor::bind_tls(const reactor::SocketAddress& address) {
  adopt_tls_listener(open_listen_socket(address, /*reuse_port=*/false), /*enabled=*/true);
}

std::unique_ptr<reactor::Listener> Acceptor::make_listener(reactor::UniqueFd fd, bool enabled, bool tls) {
  const int raw = fd.release();
  std::unique_ptr<reactor::Listener> listener;
  try {
    listener = std::make_unique<reactor::Listener>(
        base_, raw, reactor::kLevOptCloseOnFree | (enabled ? 0u : reactor::kLevOptDisabled),
        [this, tls](reactor::UniqueFd accepted, const reactor::SocketAddress& peer) {
          if (tls) {
            on_accept_tls(std::move(accepted), peer);
          } else {
            on_accept(std::move(accepted), peer);
          }
        });
  } catch (...) {
    reactor::UniqueFd close_it(raw);
    throw;
  }
  listener->set_error_callback([this](int error) { on_accept_error(error); });
  return listener;
}

void Acceptor::adopt_listener(reactor::UniqueFd fd, bool enabled) {
  drop_listener();
  listener_ = make_listener(std::move(fd), enabled, /*tls=*/false);
  listen_address_ = listener_->local_address();
  listener_sheds_seen_ = 0;
  shared_.listeners.fetch_add(1);
}

void Acceptor::adopt_tls_listener(reactor::UniqueFd fd, bool enabled) {
  drop_tls_listener();
  tls_listener_ = make_listener(std::move(fd), enabled, /*tls=*/true);
  tls_listen_address_ = tls_listener_->local_address();
  shared_.listeners.fetch_add(1);
}

void Acceptor::drop_listener() {
  if (!listener_) return;
  listener_.reset();  // closes the socket: new clients are refused by the kernel
  shared_.listeners.fetch_sub(1);
}

void Acceptor::drop_tls_listener() {
  if (!tls_listener_) return;
  tls_listener_.reset();
  shared_.listeners.fetch_sub(1);
}

void Acceptor::stop_listening() {
  drop_listener();
  drop_tls_listener();  // (its backlog is refused: a TLS client reconnects)
}

void Acceptor::enable() {
  if (listener_ && !listener_->enabled()) listener_->enable();
  if (tls_listener_ && !tls_listener_->enabled()) tls_listener_->enable();
}

void Acceptor::on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
  if (config_.loops > 1 && config_.accept_mode == AcceptMode::kSingle) {
    // One acceptor: hand the socket round-robin to a loop (possibly this one), skipping loops
    // that have ended (ExitLoop): a connection posted there would never be served.
    const auto n = static_cast<unsigned>(shared_.loops.size());
    unsigned target = index_;
    for (unsigned tries = 0; tries < n; ++tries) {
      const unsigned candidate = shared_.next_loop++ % n;
      if (candidate == index_ || !shared_.loops[candidate]->ended()) {
        target = candidate;
        break;
      }
    }
    if (target != index_) {
      LoopWorker* worker = shared_.loops[target];
      // std::function needs a copyable callable; the shared_ptr keeps the fd closed exactly
      // once even if the function is destroyed without running.
      auto holder = std::make_shared<reactor::UniqueFd>(std::move(fd));
      worker->post([worker, holder, peer] { worker->adopt(std::move(*holder), peer); });
      return;
    }
  }
  take(std::move(fd), peer, /*tls=*/false);
}

void Acceptor::on_accept_tls(reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
  const auto n = static_cast<unsigned>(shared_.loops.size());
  if (n > 1) {
    // One TLS acceptor (loop 0): hand the socket round-robin to a live loop.
    for (unsigned tries = 0; tries < n; ++tries) {
      const unsigned candidate = shared_.next_loop++ % n;
      if (candidate == index_) break;
      if (shared_.loops[candidate]->ended()) continue;
      LoopWorker* worker = shared_.loops[candidate];
      auto holder = std::make_shared<reactor::UniqueFd>(std::move(fd));
      worker->post([worker, holder, peer] { worker->adopt(std::move(*holder), peer, /*tls=*/true); });
      return;
    }
  }
  take(std::move(fd), peer, /*tls=*/true);
}

void Acceptor::take(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls) {
  if (admit(peer, /*admitted=*/false)) serve_(std::move(fd), peer, tls);
  // else the fd closes here: the client sees EOF at once
}

std::optional<std::string> Acceptor::relisten(const reactor::SocketAddress& address, bool reuse_port) {
  // --tls-listen: loop 0 accepted on it; it listens again on the bound address too.
  const reactor::SocketAddress tls_address =
      shared_.loops.empty() ? reactor::SocketAddress{} : shared_.loops.front()->tls_listen_address();
  if (!tls_listener_ && tls_address.family() != AF_UNSPEC &&
      (index_ == 0 || shared_.loops.front()->ended())) {
    try {
      adopt_tls_listener(open_listen_socket(tls_address, /*reuse_port=*/false), /*enabled=*/false);
    } catch (const std::exception& e) {
      return "--tls-listen " + tls_address.to_string() + ": " + e.what();
    }
  }
  if (listener_) return std::nullopt;
  try {
    adopt_listener(open_listen_socket(address, reuse_port), /*enabled=*/false);
  } catch (const std::system_error& e) {
    return "--listen " + address.to_string() + ": " + e.code().message();
  } catch (const std::exception& e) {
    return "--listen " + address.to_string() + ": " + e.what();
  }
  return std::nullopt;
}

void Acceptor::accept_backlog() {
  if (!listener_) return;
  // Only the clients waiting now. Accepting until the queue is empty would let a client that
  // connects as fast as this loop accepts keep the listener open, and this loop in here, for
  // as long as it goes on; those who come later are reset when the socket closes.
  // The listener's own accept path (its EMFILE shedding) with this batch's own callback: the
  // drain's last clients are served on this loop (not handed round-robin), admitted although
  // the server is draining.
  const std::size_t waiting = accept_queue_length(listener_->fd(), SOMAXCONN);
  listener_->accept_pending(waiting, [this](reactor::UniqueFd accepted, const reactor::SocketAddress& peer) {
    if (admit(peer, /*admitted=*/true)) serve_(std::move(accepted), peer, /*tls=*/false);
  });
}

void Acceptor::hand_over() {
  if (!listener_) return;
  const bool single = config_.loops > 1 && config_.accept_mode == AcceptMode::kSingle;
  const ServerState state = shared_.server.state();
  const bool keep_service = state == ServerState::kServing || state == ServerState::kDraining;
  LoopWorker* heir = nullptr;
  if (single && keep_service) {
    for (LoopWorker* w : shared_.loops) {
      if (w->index() != index_ && !w->ended()) {
        heir = w;
        break;
      }
    }
  }
  if (heir == nullptr) {
    drop_listener();
    return;
  }
  // The same socket (its backlog included) moves: dup it, then free our Listener.
  auto holder = std::make_shared<reactor::UniqueFd>(::dup(listener_->fd()));
  drop_listener();
  if (!holder->valid()) {
    spdlog::error("loop {}: cannot hand accepting over: {}", index_, std::strerror(errno));
    return;
  }
  spdlog::warn("loop {} ended: loop {} accepts from now on", index_, heir->index());
  heir->post([heir, holder] {
    try {
      heir->adopt_listener(std::move(*holder));
    } catch (const std::exception& e) {
      spdlog::error("loop {}: cannot take over accepting: {}", heir->index(), e.what());
    }
  });
}

bool Acceptor::admit(const reactor::SocketAddress& peer, bool admitted) {
  std::optional<RejectReason> reject;
  if (!admitted && !shared_.accepting()) {
    reject = RejectReason::kDraining;
  } else {
    // The tighter of --max-connections and the fd budget (data clients are shed first, so
    // that gRPC and the metrics server always find an fd).
    const std::size_t fd_cap = shared_.fd_cap.load(std::memory_order_relaxed);
    const bool fd_bound = fd_cap < config_.max_connections;
    if (!shared_.reserve_slot(fd_bound ? fd_cap : config_.max_connections)) {
      reject = fd_bound ? RejectReason::kFdReserve : RejectReason::kMaxConnections;
    }
  }
  if (!reject) return true;
  counters_.rejected[static_cast<std::size_t>(*reject)].add();
  ++rejects_since_log_;
  const reactor::TimePoint now = base_.now();
  if (now - last_reject_log_ >= std::chrono::seconds(1)) {
    spdlog::warn("loop {}: rejected {} ({}); {} rejected since the last report", index_, peer.to_string(),
                 to_string(*reject), rejects_since_log_);
    last_reject_log_ = now;
    rejects_since_log_ = 0;
  }
  return false;
}

void Acceptor::count_setup_error() {
  counters_.rejected[static_cast<std::size_t>(RejectReason::kSetupError)].add();
}

void Acceptor::on_accept_error(int error) {
  const std::size_t slot = error > 0 && static_cast<std::size_t>(error) < LoopCounters::kErrnoSlots
                               ? static_cast<std::size_t>(error)
                               : 0;
  counters_.accept_errors[slot].add();
  // EMFILE/ENFILE is reported both when the listener shed a client with its spare fd and when
  // it had to pause instead (no spare): only the first is a shed.
  const std::uint64_t sheds = listener_ ? listener_->shed_count() : 0;
  if (sheds > listener_sheds_seen_) counters_.accept_errors_shed.add(sheds - listener_sheds_seen_);
  listener_sheds_seen_ = sheds;
  const reactor::TimePoint now = base_.now();
  if (now - last_reject_log_ >= std::chrono::seconds(1)) {
    spdlog::warn("loop {}: accept failed: {}", index_, std::strerror(error));
    last_reject_log_ = now;
  }
}

}  // namespace reactord
