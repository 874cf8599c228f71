#include "server/loop_worker.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <cstring>
#include <new>
#include <system_error>

#include "reactor/sys_calls.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/connection_observer.h"
#include "server/listen_socket.h"
#include "server/rate_limits.h"
#include "server/server.h"
#include "server/server_shared.h"

namespace reactord {

namespace {
// After the drain deadline, how long a graceful close may still take (see on_drain_deadline).
constexpr reactor::Duration kDrainCloseGrace = std::chrono::milliseconds(500);
}  // namespace

const char* to_string(TlsHandshakeResult result) {
  switch (result) {
    case TlsHandshakeResult::kOk:
      return "ok";
    case TlsHandshakeResult::kFailed:
      return "failed";
    case TlsHandshakeResult::kTimeout:
      return "timeout";
    case TlsHandshakeResult::kClosed:
      return "closed";
  }
  return "?";
}

std::uint64_t LoopCounters::rejected_total() const {
  std::uint64_t n = 0;
  for (const auto& c : rejected) n += c.get();
  return n;
}
std::uint64_t LoopCounters::closed_total() const {
  std::uint64_t n = 0;
  for (const auto& c : closed) n += c.get();
  return n;
}
std::uint64_t LoopCounters::accept_errors_total() const {
  std::uint64_t n = 0;
  for (const auto& c : accept_errors) n += c.get();
  return n;
}

LoopWorker::LoopWorker(unsigned index, const Config& config, ServerShared& shared)
    : index_(index), config_(config), shared_(shared), base_(std::make_unique<reactor::EventBase>()) {
  if (config_.idle_timeout.count() > 0) {
    idle_ = std::make_unique<IdleTracker>(*base_, config_.idle_timeout, [](IdleTracker::Hook& hook) {
      static_cast<Connection&>(hook).on_idle();
    });
  }
  rate_limits_ = std::make_unique<LoopRateLimits>(*base_, config_.loops, config_.rate_limit_per_connection,
                                                  config_.rate_limit_total);
}

LoopWorker::~LoopWorker() = default;

void LoopWorker::post(std::function<void()> fn) {
  // Out of memory inside posted work (a control request's snapshot) fails that request (its
  // promise breaks), not the loop.
  auto guarded = [fn = std::move(fn), index = index_] {
    try {
      fn();
    } catch (const std::bad_alloc&) {
      spdlog::error("loop {}: out of memory in a posted request; the request fails", index);
    }
  };
  std::lock_guard lock(base_mutex_);
  if (base_) base_->post(std::move(guarded));
}

void LoopWorker::exit_loop(std::optional<reactor::Duration> delay) {
  std::lock_guard lock(base_mutex_);
  if (base_) base_->loopexit(delay);
}

void LoopWorker::break_loop() {
  std::lock_guard lock(base_mutex_);
  if (base_) base_->loopbreak();
}

void LoopWorker::bind(const reactor::SocketAddress& address, bool reuse_port) {
  adopt_listener(open_listen_socket(address, reuse_port));
}

void LoopWorker::adopt_listener(reactor::UniqueFd fd, bool enabled) {
  drop_listener();
  const int raw = fd.release();
  try {
    listener_ = std::make_unique<reactor::Listener>(
        *base_, raw, reactor::kLevOptCloseOnFree | (enabled ? 0u : reactor::kLevOptDisabled),
        [this](reactor::UniqueFd accepted, const reactor::SocketAddress& peer) {
          on_accept(std::move(accepted), peer);
        });
  } catch (...) {
    reactor::UniqueFd close_it(raw);
    throw;
  }
  listener_->set_error_callback([this](int error) { on_accept_error(error); });
  listen_address_ = listener_->local_address();
  listener_sheds_seen_ = 0;
  shared_.listeners.fetch_add(1);
}

void LoopWorker::bind_tls(const reactor::SocketAddress& address) {
  adopt_tls_listener(open_listen_socket(address, /*reuse_port=*/false), /*enabled=*/true);
}

void LoopWorker::adopt_tls_listener(reactor::UniqueFd fd, bool enabled) {
  drop_tls_listener();
  const int raw = fd.release();
  try {
    tls_listener_ = std::make_unique<reactor::Listener>(
        *base_, raw, reactor::kLevOptCloseOnFree | (enabled ? 0u : reactor::kLevOptDisabled),
        [this](reactor::UniqueFd accepted, const reactor::SocketAddress& peer) {
          on_accept_tls(std::move(accepted), peer);
        });
  } catch (...) {
    reactor::UniqueFd close_it(raw);
    throw;
  }
  tls_listener_->set_error_callback([this](int error) { on_accept_error(error); });
  tls_listen_address_ = tls_listener_->local_address();
  shared_.listeners.fetch_add(1);
}

void LoopWorker::drop_tls_listener() {
  if (!tls_listener_) return;
  tls_listener_.reset();
  shared_.listeners.fetch_sub(1);
}

reactor::TlsBufferEvent* LoopWorker::tls_session(std::uint64_t id) const {
  auto it = tls_sessions_.find(id);
  return it != tls_sessions_.end() ? it->second.get() : nullptr;
}

void LoopWorker::attach_tls(std::uint64_t id, std::unique_ptr<reactor::TlsBufferEvent> session) {
  tls_sessions_[id] = std::move(session);
}

void LoopWorker::drop_tls(std::uint64_t id) { tls_sessions_.erase(id); }

void LoopWorker::on_accept_tls(reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
  const auto n = static_cast<unsigned>(shared_.loops.size());
  if (n > 1) {
    // One TLS acceptor (loop 0): hand the socket round-robin to a live loop.
    for (unsigned tries = 0; tries < n; ++tries) {
      const unsigned candidate = shared_.next_loop++ % n;
      if (candidate == index_) break;
      if (shared_.loops[candidate]->ended()) continue;
      LoopWorker* worker = shared_.loops[candidate];
      auto holder = std::make_shared<reactor::UniqueFd>(std::move(fd));
      worker->post([worker, holder, peer] {
        worker->setup_connection(std::move(*holder), peer, /*admitted=*/false, /*tls=*/true);
      });
      return;
    }
  }
  setup_connection(std::move(fd), peer, /*admitted=*/false, /*tls=*/true);
}

void LoopWorker::drop_listener() {
  if (!listener_) return;
  listener_.reset();  // closes the socket: new clients are refused by the kernel
  shared_.listeners.fetch_sub(1);
}

std::optional<std::string> LoopWorker::relisten(const reactor::SocketAddress& address, bool reuse_port) {
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

void LoopWorker::accept_backlog() {
  if (!listener_) return;
  // Only the clients waiting now. Accepting until the queue is empty would let a client that
  // connects as fast as this loop accepts keep the listener open, and this loop in here, for
  // as long as it goes on; those who come later are reset when the socket closes.
  const std::size_t waiting = accept_queue_length(listener_->fd(), SOMAXCONN);
  for (std::size_t i = 0; i < waiting; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = reactor::sys().accept4(listener_->fd(), reinterpret_cast<sockaddr*>(&ss), &len,
                                          SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) on_accept_error(errno);
      return;
    }
    setup_connection(reactor::UniqueFd(fd), reactor::SocketAddress(reinterpret_cast<sockaddr*>(&ss), len),
                     /*admitted=*/true);
  }
}

void LoopWorker::hand_over_listener() {
  if (!listener_) return;
  const bool single = config_.loops > 1 && config_.accept_mode == AcceptMode::kSingle;
  const ServerState state = shared_.server.state();
  const bool keep_service = state == ServerState::kServing || state == ServerState::kDraining;
  LoopWorker* heir = nullptr;
  if (single && keep_service) {
    for (LoopWorker* w : shared_.loops) {
      if (w != this && !w->ended()) {
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

void LoopWorker::run() {
  running_.store(true, std::memory_order_release);
  try {
    base_->loop(reactor::kLoopNoExitOnEmpty);
  } catch (const std::exception& e) {
    // The loop cannot go on (an exception left a callback half done). The process must not
    // carry on as if all were well: it stops and exits non-zero, so a supervisor restarts it.
    spdlog::critical("loop {} failed: {}; stopping (exit code {})", index_, e.what(), kExitLoopFailed);
    shared_.loop_failed();
  } catch (...) {
    spdlog::critical("loop {} failed; stopping (exit code {})", index_, kExitLoopFailed);
    shared_.loop_failed();
  }
  running_.store(false, std::memory_order_release);
  ended_.store(true, std::memory_order_release);
  hand_over_listener();
  teardown();
}

void LoopWorker::teardown() {
  // Stop accepting first, then let every connection go (reason shutdown). The loop is not
  // running, so no connection callback is on the stack: they can be destroyed right here.
  drop_listener();
  drop_tls_listener();
  drain_timer_.reset();
  drain_progress_.reset();
  std::vector<std::unique_ptr<Connection>> left = registry_.remove_all();
  if (!left.empty()) spdlog::info("loop {}: closing {} connections at shutdown", index_, left.size());
  for (auto& c : left) c->close_for_shutdown();
  left.clear();
  counters_.open_connections.set(0);
}

void LoopWorker::destroy_base() {
  observers_.clear();
  tls_sessions_.clear();  // (each Connection dropped its own; none should be left)
  idle_.reset();
  rate_limits_.reset();  // its group's timer, on this thread
  owned_events_.clear();
  std::unique_ptr<reactor::EventBase> base;
  {
    std::lock_guard lock(base_mutex_);
    base = std::move(base_);
  }
  base.reset();  // posted functions not run are destroyed here, on this thread
}

void LoopWorker::own(std::unique_ptr<reactor::Event> event) { owned_events_.push_back(std::move(event)); }

void LoopWorker::on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
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
  setup_connection(std::move(fd), peer);
}

void LoopWorker::adopt(reactor::UniqueFd fd, const reactor::SocketAddress& peer) {
  setup_connection(std::move(fd), peer);
}

void LoopWorker::setup_connection(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool admitted,
                                  bool tls) {
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
  if (reject) {
    counters_.rejected[static_cast<std::size_t>(*reject)].add();
    ++rejects_since_log_;
    const reactor::TimePoint now = base_->now();
    if (now - last_reject_log_ >= std::chrono::seconds(1)) {
      spdlog::warn("loop {}: rejected {} ({}); {} rejected since the last report", index_, peer.to_string(),
                   to_string(*reject), rejects_since_log_);
      last_reject_log_ = now;
      rejects_since_log_ = 0;
    }
    return;  // fd closes here: the client sees EOF at once
  }
  const std::uint64_t id = shared_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  std::unique_ptr<Connection> owned;
  try {
    if (tls) {
      const TlsContextPtr context = shared_.tls_context.get();
      SSL* ssl = context ? SSL_new(context.get()) : nullptr;
      if (ssl == nullptr) throw std::runtime_error("SSL_new failed");
      owned = std::make_unique<Connection>(*this, *base_, id, std::move(fd), peer, ssl);
    } else {
      owned = std::make_unique<Connection>(*this, *base_, id, std::move(fd), peer);
    }
  } catch (const std::exception& e) {
    shared_.release_slot();
    counters_.rejected[static_cast<std::size_t>(RejectReason::kSetupError)].add();
    spdlog::error("loop {}: cannot set up connection from {}: {}", index_, peer.to_string(), e.what());
    return;
  }
  Connection& c = *owned;
  registry_.insert(std::move(owned));
  counters_.accepted.add();
  counters_.open_connections.set(registry_.size());
  notify_opened(c);
  try {
    rate_limits_->apply(c.buffer_event());
    c.start();
  } catch (const std::exception& e) {
    counters_.rejected[static_cast<std::size_t>(RejectReason::kSetupError)].add();
    spdlog::error("loop {}: cannot start connection {} from {}: {}", index_, id, peer.to_string(), e.what());
    c.close(CloseReason::kError, /*graceful=*/false);
    return;
  }
  spdlog::debug("loop {}: connection {} from {}", index_, id, peer.to_string());
}

void LoopWorker::on_accept_error(int error) {
  const std::size_t slot = error > 0 && static_cast<std::size_t>(error) < LoopCounters::kErrnoSlots
                               ? static_cast<std::size_t>(error)
                               : 0;
  counters_.accept_errors[slot].add();
  // EMFILE/ENFILE is reported both when the listener shed a client with its spare fd and when
  // it had to pause instead (no spare): only the first is a shed.
  const std::uint64_t sheds = listener_ ? listener_->shed_count() : 0;
  if (sheds > listener_sheds_seen_) counters_.accept_errors_shed.add(sheds - listener_sheds_seen_);
  listener_sheds_seen_ = sheds;
  const reactor::TimePoint now = base_->now();
  if (now - last_reject_log_ >= std::chrono::seconds(1)) {
    spdlog::warn("loop {}: accept failed: {}", index_, std::strerror(error));
    last_reject_log_ = now;
  }
}

bool LoopWorker::close_connection(std::uint64_t id, CloseReason reason, bool graceful,
                                  std::optional<reactor::Duration> deadline) {
  Connection* c = registry_.find(id);
  if (c == nullptr) return false;
  c->close(reason, graceful, deadline);
  return true;
}

void LoopWorker::when_closed(const std::vector<std::uint64_t>& ids, std::function<void()> done) {
  std::vector<std::uint64_t> open;
  for (std::uint64_t id : ids) {
    if (registry_.find(id) != nullptr) open.push_back(id);
  }
  close_waiters_.add(open, std::move(done));
}

std::uint32_t LoopWorker::count_open(const std::vector<std::uint64_t>& ids) const {
  std::uint32_t n = 0;
  for (std::uint64_t id : ids) n += is_open(id) ? 1 : 0;
  return n;
}

void LoopWorker::close_idle_later(reactor::Duration after, reactor::Duration min_idle) {
  base_->once(-1, 0, after, [this, min_idle](int, reactor::EventFlags) {
    if (!draining_) return;  // resumed meanwhile
    const auto now = reactor::Clock::now();
    const Connection::RecordParts parts{.local_address = false, .created_wall = false};
    std::vector<std::uint64_t> idle_ids;
    registry_.for_each_from(0, [&](const Connection& c) {
      if (now - c.record(parts).last_activity >= min_idle) idle_ids.push_back(c.id());
      return true;
    });
    for (std::uint64_t id : idle_ids) close_connection(id, CloseReason::kDrain, /*graceful=*/true);
  });
}

std::string LoopWorker::backend_name() const { return base_->backend_name(); }
std::vector<reactor::EventInfo> LoopWorker::event_snapshot() const { return base_->snapshot(); }
reactor::EventCounts LoopWorker::event_counts() const { return base_->counts(); }
reactor::LoopStats LoopWorker::loop_stats() const { return base_->stats(); }

void LoopWorker::for_each_record_from(std::uint64_t start_id, bool with_local_address,
                                      const std::function<bool(const ConnectionRecord&)>& f) const {
  const Connection::RecordParts parts{.local_address = with_local_address, .created_wall = false};
  registry_.for_each_from(start_id, [&](const Connection& conn) { return f(conn.record(parts)); });
}

reactor::SocketAddress LoopWorker::local_address_of(std::uint64_t id) const {
  const Connection* conn = registry_.find(id);
  return conn != nullptr ? conn->local_address() : reactor::SocketAddress();
}

std::optional<LoopWorker::ConnectionDetail> LoopWorker::connection_detail(std::uint64_t id) const {
  const Connection* conn = registry_.find(id);
  if (conn == nullptr) return std::nullopt;
  ConnectionDetail d;
  d.record = conn->record();
  const reactor::BufferEvent& bev = conn->buffer_event();
  d.fd = bev.fd();
  d.read_low_watermark = bev.read_low_watermark();
  d.read_high_watermark = bev.read_high_watermark();
  d.write_low_watermark = bev.write_low_watermark();
  d.read_suspended_by_watermark = bev.read_suspended_by_watermark();
  for (auto& e : base_->snapshot()) {
    const bool mine =
        e.owner == id || (e.id != 0 && (e.id == d.record.read_event_id || e.id == d.record.write_event_id));
    if (mine) d.events.push_back(std::move(e));
  }
  return d;
}

void LoopWorker::set_rate_limit(const std::vector<std::uint64_t>& ids, std::optional<units::Rate> rate) {
  std::optional<reactor::TokenBucketConfig> buckets;
  if (rate) buckets = to_token_buckets(*rate);
  for (std::uint64_t id : ids) {
    if (Connection* c = registry_.find(id)) c->buffer_event().set_rate_limit(buckets);
  }
}

void LoopWorker::on_connection_closed(Connection& connection, CloseReason reason) {
  counters_.closed[static_cast<std::size_t>(reason)].add();
  if (rate_limits_) rate_limits_->on_closed(connection.buffer_event());
  std::unique_ptr<Connection> owned = registry_.remove(connection.id());
  counters_.open_connections.set(registry_.size());
  close_waiters_.on_closed(connection.id());
  if (!observers_.empty()) {
    ConnectionRecord record = connection.record();
    record.close_reason = reason;
    for (auto& [observer_id, observer] : observers_) observer->on_closed(record);
  }
  spdlog::debug("loop {}: connection {} closed: {}", index_, connection.id(), to_string(reason));
  // Last: it may end the drain and stop the server.
  if (owned) base_->defer_delete(std::move(owned));  // we may be inside its callback
  shared_.release_slot();
}

void LoopWorker::on_connection_state_changed(Connection& connection) {
  if (observers_.empty()) return;
  const ConnectionRecord record = connection.record();
  for (auto& [observer_id, observer] : observers_) observer->on_state_changed(record);
}

void LoopWorker::notify_opened(const Connection& connection) {
  if (observers_.empty()) return;
  const ConnectionRecord record = connection.record();
  for (auto& [observer_id, observer] : observers_) observer->on_opened(record);
}

void LoopWorker::add_observer(std::uint64_t observer_id, std::shared_ptr<ConnectionObserver> observer) {
  // Connections opened from now on are reported as opened; the listing stops at today's last.
  const std::uint64_t last = registry_.last_id();
  observers_.emplace_back(observer_id, std::move(observer));
  list_existing(observer_id, 0, last);
}

void LoopWorker::list_existing(std::uint64_t observer_id, std::uint64_t from, std::uint64_t last) {
  auto it = std::find_if(observers_.begin(), observers_.end(),
                         [&](const auto& entry) { return entry.first == observer_id; });
  if (it == observers_.end()) return;  // removed meanwhile
  if (!it->second->ready_for_listing()) {
    base_->once(-1, 0, std::chrono::milliseconds(10),
                [this, observer_id, from, last](int, reactor::EventFlags) {
                  list_existing(observer_id, from, last);
                });
    return;
  }
  std::vector<ConnectionRecord> slice;
  std::optional<std::uint64_t> next;
  registry_.for_each_from(from, [&](const Connection& c) {
    if (c.id() > last) return false;
    if (slice.size() == kListingSlice) {
      next = c.id();
      return false;
    }
    slice.push_back(c.record());
    return true;
  });
  if (!next) {
    it->second->on_attached(index_, slice);
    return;
  }
  it->second->on_existing(index_, slice);
  // The rest in a later iteration: post() from the loop's own thread runs after this one's
  // I/O callbacks.
  post([this, observer_id, from = *next, last] { list_existing(observer_id, from, last); });
}

void LoopWorker::remove_observer(std::uint64_t observer_id) {
  std::erase_if(observers_, [&](const auto& entry) { return entry.first == observer_id; });
}

void LoopWorker::begin_drain(reactor::Duration deadline) {
  draining_ = true;
  // Soft-stop: who is in the backlog already connected and is served; then the socket closes.
  accept_backlog();
  drop_listener();
  drop_tls_listener();  // (its backlog is refused: a TLS client reconnects)
  for (std::uint64_t id : registry_.ids()) {
    if (Connection* c = registry_.find(id)) c->set_draining(true);
  }
  drain_timer_ = reactor::Event::timer(*base_, [this](int, reactor::EventFlags) { on_drain_deadline(); });
  drain_timer_->set_label("drain.deadline");
  drain_timer_->add(deadline);
  if (index_ == 0) {
    drain_progress_ =
        std::make_unique<reactor::Event>(*base_, -1, reactor::kPersist, [this](int, reactor::EventFlags) {
          const std::size_t left = shared_.open_connections.load(std::memory_order_relaxed);
          spdlog::info("draining: {} connections left", left);
          if (left == 0) drain_progress_->del();  // nothing more to report
        });
    drain_progress_->set_label("drain.progress");
    drain_progress_->add(std::chrono::seconds(1));
  }
}

void LoopWorker::end_drain() {
  draining_ = false;
  drain_timer_.reset();
  drain_progress_.reset();
  if (listener_ && !listener_->enabled()) listener_->enable();
  if (tls_listener_ && !tls_listener_->enabled()) tls_listener_->enable();
  for (std::uint64_t id : registry_.ids()) {
    if (Connection* c = registry_.find(id)) c->set_draining(false);
  }
}

void LoopWorker::on_drain_deadline() {
  if (registry_.empty()) return;
  spdlog::info("loop {}: drain deadline: closing {} connections", index_, registry_.size());
  // The clients had the drain deadline to leave; what is left gets a short graceful close
  // (at its end a connection whose output is all in the kernel is closed, not reset), short
  // enough that a SIGTERM'd process is gone within --drain-timeout + 1 s with the control
  // plane and metrics stopped.
  close_all(CloseReason::kDrain, /*graceful=*/true, kDrainCloseGrace);
}

void LoopWorker::close_all(CloseReason reason, bool graceful, std::optional<reactor::Duration> deadline) {
  for (std::uint64_t id : registry_.ids()) close_connection(id, reason, graceful, deadline);
}

}  // namespace reactord
