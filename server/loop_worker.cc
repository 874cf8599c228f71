#include "server/loop_worker.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <new>
#include <stdexcept>

#include "server/config.h"
#include "server/connection.h"
#include "server/rate_limits.h"
#include "server/tcp_info.h"
#include "server/cross_loop_state.h"

namespace reactord {

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

LoopWorker::LoopWorker(unsigned index, const Config& config, CrossLoopState& shared)
    : index_(index),
      config_(config),
      shared_(shared),
      base_(std::make_unique<reactor::EventBase>()),
      connections_(shared, counters_),
      acceptor_(index, config, shared, *base_, counters_,
                [this](reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls) {
                  setup_connection(std::move(fd), peer, tls);
                }),
      context_{.loop_index = index,
               .config = config,
               .counters = counters_,
               .idle = nullptr,
               .listen_address = acceptor_.listen_address(),
               .side_tables = side_tables_,
               .owner = *this},
      drain_(index, *base_, shared, connections_),
      observers_(index, *base_, connections_, [this](std::function<void()> fn) { post(std::move(fn)); }) {
  if (config_.idle_timeout.count() > 0) {
    idle_ = std::make_unique<IdleTracker>(*base_, config_.idle_timeout, [](IdleTracker::Hook& hook) {
      static_cast<Connection&>(hook).on_idle();
    });
    context_.idle = idle_.get();
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
  acceptor_.bind(address, reuse_port);
}

void LoopWorker::bind_tls(const reactor::SocketAddress& address) { acceptor_.bind_tls(address); }

void LoopWorker::adopt_listener(reactor::UniqueFd fd, bool enabled) {
  acceptor_.adopt_listener(std::move(fd), enabled);
}

std::optional<std::string> LoopWorker::relisten(const reactor::SocketAddress& address, bool reuse_port) {
  return acceptor_.relisten(address, reuse_port);
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
  acceptor_.hand_over();
  teardown();
}

void LoopWorker::teardown() {
  // Stop accepting first, then let every connection go (reason shutdown). The loop is not
  // running, so no connection callback is on the stack: they can be destroyed right here.
  acceptor_.stop_listening();
  drain_.stop();
  std::vector<std::unique_ptr<Connection>> left = connections_.remove_all();
  if (!left.empty()) spdlog::info("loop {}: closing {} connections at shutdown", index_, left.size());
  for (auto& c : left) c->close_for_shutdown();
  left.clear();
}

void LoopWorker::destroy_base() {
  observers_.clear();
  side_tables_.clear();     // (each Connection dropped its own; none should be left)
  context_.idle = nullptr;  // a connection whose deferred delete is still queued must not touch it
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

void LoopWorker::setup_connection(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls) {
  // Admitted: the Acceptor reserved a slot, which the close (or a failure here) gives back.
  const std::uint64_t id = connections_.take_id();
  std::unique_ptr<Connection> owned;
  try {
    if (tls) {
      const TlsContextPtr context = shared_.tls_context.get();
      SSL* ssl = context ? SSL_new(context.get()) : nullptr;
      if (ssl == nullptr) throw std::runtime_error("SSL_new failed");
      owned = std::make_unique<Connection>(context_, *base_, id, std::move(fd), peer, ssl);
    } else {
      owned = std::make_unique<Connection>(context_, *base_, id, std::move(fd), peer);
    }
  } catch (const std::exception& e) {
    shared_.release_slot();
    acceptor_.count_setup_error();
    spdlog::error("loop {}: cannot set up connection from {}: {}", index_, peer.to_string(), e.what());
    return;
  }
  Connection& c = connections_.insert(std::move(owned));
  observers_.opened(c);
  try {
    rate_limits_->apply(c.buffer_event());
    c.start();
  } catch (const std::exception& e) {
    acceptor_.count_setup_error();
    spdlog::error("loop {}: cannot start connection {} from {}: {}", index_, id, peer.to_string(), e.what());
    c.close(CloseReason::kError, /*graceful=*/false);
    return;
  }
  spdlog::debug("loop {}: connection {} from {}", index_, id, peer.to_string());
}

bool LoopWorker::close_connection(std::uint64_t id, CloseReason reason, bool graceful,
                                  std::optional<reactor::Duration> deadline) {
  return connections_.close(id, reason, graceful, deadline);
}

void LoopWorker::when_closed(const std::vector<std::uint64_t>& ids, std::function<void()> done) {
  connections_.when_closed(ids, std::move(done));
}

void LoopWorker::close_idle_later(reactor::Duration after, reactor::Duration min_idle) {
  drain_.close_idle_later(after, min_idle);
}

std::string LoopWorker::backend_name() const { return base_->backend_name(); }
std::vector<reactor::EventInfo> LoopWorker::event_snapshot() const { return base_->snapshot(); }
reactor::EventCounts LoopWorker::event_counts() const { return base_->counts(); }
reactor::LoopStats LoopWorker::loop_stats() const { return base_->stats(); }

void LoopWorker::for_each_record_from(std::uint64_t start_id, bool with_local_address,
                                      const std::function<bool(ConnectionRecord&)>& f) const {
  connections_.for_each_record_from(start_id, with_local_address, f);
}

reactor::SocketAddress LoopWorker::local_address_of(std::uint64_t id) const {
  return connections_.local_address_of(id);
}

std::optional<ConnectionRecord> LoopWorker::connection_detail(std::uint64_t id) const {
  const Connection* conn = connections_.find(id);
  if (conn == nullptr) return std::nullopt;
  ConnectionRecord record = conn->record();
  const reactor::BufferEvent& bev = conn->buffer_event();
  ConnectionDetails& d = record.details.emplace();
  d.fd = bev.fd();
  d.read_low_watermark = bev.read_low_watermark();
  d.read_high_watermark = bev.read_high_watermark();
  d.write_low_watermark = bev.write_low_watermark();
  d.read_suspended_by_watermark = bev.read_suspended_by_watermark();
  d.tcp = read_tcp_info(d.fd);  // on the loop thread: the fd is open
  for (auto& e : base_->snapshot()) {
    const bool mine =
        e.owner == id || (e.id != 0 && (e.id == record.read_event_id || e.id == record.write_event_id));
    if (mine) d.events.push_back(std::move(e));
  }
  return record;
}

void LoopWorker::set_rate_limit(const std::vector<std::uint64_t>& ids, std::optional<units::Rate> rate) {
  std::optional<reactor::TokenBucketConfig> buckets;
  if (rate) buckets = to_token_buckets(*rate);
  for (std::uint64_t id : ids) {
    if (Connection* c = connections_.find(id)) c->buffer_event().set_rate_limit(buckets);
  }
}

void LoopWorker::on_connection_closed(Connection& connection, CloseReason reason) {
  counters_.closed[static_cast<std::size_t>(reason)].add();
  if (rate_limits_) rate_limits_->on_closed(connection.buffer_event());
  std::unique_ptr<Connection> owned = connections_.remove(connection.id());
  observers_.closed(connection, reason);
  spdlog::debug("loop {}: connection {} closed: {}", index_, connection.id(), to_string(reason));
  // Last: it may end the drain and stop the server.
  if (owned) base_->defer_delete(std::move(owned));  // we may be inside its callback
  shared_.release_slot();
}

void LoopWorker::on_connection_state_changed(Connection& connection) { observers_.state_changed(connection); }

void LoopWorker::add_observer(std::uint64_t observer_id, std::shared_ptr<ConnectionObserver> observer) {
  observers_.add(observer_id, std::move(observer));
}

void LoopWorker::remove_observer(std::uint64_t observer_id) { observers_.remove(observer_id); }

void LoopWorker::begin_drain(reactor::Duration deadline) {
  // Soft-stop: who is in the backlog already connected and is served; then the socket closes.
  acceptor_.accept_backlog();
  acceptor_.stop_listening();
  drain_.begin(deadline);  // marks every connection draining, the backlog's too
}

void LoopWorker::end_drain() {
  drain_.end();
  acceptor_.enable();
}

void LoopWorker::close_all(CloseReason reason, bool graceful, std::optional<reactor::Duration> deadline) {
  connections_.close_all(reason, graceful, deadline);
}

}  // namespace reactord
