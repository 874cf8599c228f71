#include "server/server.h"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <system_error>

#include "server/fd_limits.h"
#include "server/bind_check.h"
#include "server/cross_loop_state.h"
#include "server/tls_context.h"
#include "server/signal_loop.h"
#include "server/thread_name.h"

namespace reactord {

const char* to_string(ServerState state) {
  switch (state) {
    case ServerState::kCreated:
      return "created";
    case ServerState::kServing:
      return "serving";
    case ServerState::kDraining:
      return "draining";
    case ServerState::kStopping:
      return "stopping";
    case ServerState::kStopped:
      return "stopped";
  }
  return "?";
}

bool CrossLoopState::accepting() const {
  return server.state() == ServerState::kServing && listeners.load() > 0;
}

bool CrossLoopState::reserve_slot(std::size_t max_connections) {
  std::size_t n = open_connections.load(std::memory_order_relaxed);
  do {
    if (n >= max_connections) return false;
  } while (!open_connections.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void CrossLoopState::release_slot() {
  const std::size_t left = open_connections.fetch_sub(1, std::memory_order_relaxed) - 1;
  if (left == 0 && exit_when_drained.load() && server.state() == ServerState::kDraining) {
    spdlog::info("drain complete: no connection left");
    server.request_stop(0);
  }
}

void CrossLoopState::loop_failed() {
  {
    std::lock_guard lock(server.mutex_);
    server.exit_code_ = kExitLoopFailed;  // over a clean stop asked for earlier, too
  }
  server.stop();
}

Server::Server(Config config) : config_(std::move(config)), shared_(std::make_unique<CrossLoopState>(*this)) {
  log_level_.store(static_cast<int>(config_.log_level));
}

Server::~Server() {
  if (!threads_.empty() && !waited_) {
    stop();
    wait();
  }
}

void Server::add_component(std::unique_ptr<Component> component) {
  components_.push_back(std::move(component));
}

// From start()'s copy, never from the loop: Resume re-creates the loop's listener on the loop
// thread, and this is read from any thread (the address itself does not change).
reactor::SocketAddress Server::listen_address() const { return bound_address_; }

std::optional<reactor::SocketAddress> Server::tls_listen_address() const { return bound_tls_address_; }

bool Server::reload_tls(std::string* error) {
  if (!config_.tls_listen) return true;
  std::string why;
  TlsContextPtr context = make_tls_context(config_, &why);
  if (!context) {
    if (error != nullptr) *error = why;
    spdlog::error("TLS reload failed, the old certificate stays: {}", why);
    return false;
  }
  shared_->tls_context.set(std::move(context));
  spdlog::info("TLS reload: new handshakes use {}", config_.tls_cert);
  return true;
}

std::size_t Server::open_connections() const {
  return shared_->open_connections.load(std::memory_order_relaxed);
}

void Server::start() {
  if (state() != ServerState::kCreated) throw StartError("server already started");
  // Nothing is bound until every component has checked its configuration and every address
  // is known to be free: a config error never follows an accepted client.
  for (auto& component : components_) {
    try {
      component->prepare(*this);
    } catch (const StartError&) {
      throw;
    } catch (const std::exception& e) {
      throw StartError(component->name() + ": " + e.what());
    }
  }
  const bool reuse_port = config_.loops > 1 && config_.accept_mode == AcceptMode::kReusePort;
  // With SO_REUSEPORT the plain bind also says whether we would join another process's group
  // on that port (same user) and silently share its clients.
  if (auto problem = bind_problem("--listen", config_.listen)) throw StartError(*problem);
  if (config_.tls_listen) {
    // The certificate, key and CA are read and checked before anything is bound.
    std::string tls_error;
    TlsContextPtr context = make_tls_context(config_, &tls_error);
    if (!context) throw ConfigError(tls_error);
    shared_->tls_context.set(std::move(context));
    if (auto problem = bind_problem("--tls-listen", *config_.tls_listen)) throw StartError(*problem);
  }
  for (unsigned i = 0; i < config_.loops; ++i) {
    loops_.push_back(std::make_unique<LoopWorker>(i, config_, *shared_));
    shared_->loops.push_back(loops_.back().get());
  }
  // Bind on this thread so that a bad address fails start() with one clear line. With
  // SO_REUSEPORT every loop binds the port loop 0 got (which resolves port 0).
  reactor::SocketAddress address = config_.listen;
  for (auto& loop : loops_) {
    if (loop->index() > 0 && !reuse_port) break;  // one acceptor
    try {
      loop->bind(address, reuse_port);
    } catch (const std::system_error& e) {
      loops_.clear();
      shared_->loops.clear();
      throw StartError("--listen " + address.to_string() + ": " + e.code().message());
    } catch (const std::exception& e) {
      loops_.clear();
      shared_->loops.clear();
      throw StartError("--listen " + address.to_string() + ": " + e.what());
    }
    address = loop->listen_address();
  }
  if (config_.tls_listen) {
    try {
      loops_.front()->bind_tls(*config_.tls_listen);
    } catch (const std::exception& e) {
      loops_.clear();
      shared_->loops.clear();
      throw StartError("--tls-listen " + config_.tls_listen->to_string() + ": " + e.what());
    }
    bound_tls_address_ = loops_.front()->tls_listen_address();
    spdlog::info("listening for TLS on {} (kernel TLS: off, the reactor's TLS filter encrypts)",
                 bound_tls_address_->to_string());
  }
  bound_address_ = loops_.front()->listen_address();  // before the loop threads start
  spdlog::info("listening on {} ({} loop{}{})", listen_address().to_string(), config_.loops,
               config_.loops > 1 ? "s, accept mode " : "",
               config_.loops > 1 ? to_string(config_.accept_mode) : "");
  if (config_.handle_signals) install_signals();

  state_.store(static_cast<int>(ServerState::kServing));
  for (auto& loop : loops_) {
    LoopWorker* worker = loop.get();
    threads_.emplace_back([this, worker] {
      name_this_thread("loop-" + std::to_string(worker->index()));
      worker->run();
      on_loop_ended(worker->index());
      {
        // The base lives until the components have stopped posting (see wait()).
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return release_bases_; });
      }
      worker->destroy_base();
    });
  }

  for (auto& component : components_) {
    try {
      component->start(*this);
      ++components_started_;
      spdlog::info("{} started", component->name());
    } catch (const std::exception& e) {
      const std::string message = component->name() + ": " + e.what();
      stop();
      wait();
      throw StartError(message);
    }
  }
  set_fd_budget();
  {
    std::lock_guard lock(reload_mutex_);
    reload_open_ = true;
  }
}

// Everything that opens fds at start (listeners, loops, gRPC, metrics) has: what is left of the
// limit, less the reserve, is what data connections may take.
void Server::set_fd_budget() {
  const std::uint64_t soft = nofile_soft_limit();
  const std::size_t in_use = count_open_fds();
  fd_budget_ = reactord::fd_budget(soft, in_use, config_.fd_reserve);
  shared_->fd_cap.store(fd_budget_.data_cap, std::memory_order_relaxed);
  if (soft == UINT64_MAX) {
    spdlog::info("fd limit: unlimited; {} in use", in_use);
  } else {
    spdlog::info(
        "fd limit {}: {} in use, {} kept for control and metrics, data connections "
        "capped at {}",
        soft, in_use, fd_budget_.reserve, fd_budget_.data_cap);
  }
  if (fd_budget_.reserve < config_.fd_reserve) {
    spdlog::warn(
        "fd limit {} leaves room for only {} reserved fds (--fd-reserve {}): raise the "
        "limit (ulimit -n, LimitNOFILE=)",
        soft, fd_budget_.reserve, config_.fd_reserve);
  }
}

void Server::request_stop(int exit_code) {
  {
    std::lock_guard lock(mutex_);
    if (!stop_requested_) exit_code_ = exit_code;
  }
  stop();  // asks the loops to exit, then wakes wait()
}

void Server::stop() { stop_now(std::nullopt); }

void Server::stop_after(reactor::Duration delay) { stop_now(delay); }

void Server::stop_now(std::optional<reactor::Duration> delay) {
  int s = state_.load();
  while (s == static_cast<int>(ServerState::kServing) || s == static_cast<int>(ServerState::kDraining)) {
    if (state_.compare_exchange_weak(s, static_cast<int>(ServerState::kStopping))) {
      spdlog::info("stopping{}", delay ? " in " + format_duration(*delay) : std::string());
      for (auto& loop : loops_) loop->exit_loop(delay);
      break;
    }
  }
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
}

void Server::on_loop_ended(unsigned index) {
  {
    std::lock_guard lock(mutex_);
    ++loops_ended_;
  }
  spdlog::debug("loop {} ended", index);
  wake_.notify_all();
}

int Server::wait() {
  if (waited_ || threads_.empty()) return exit_code_;
  waited_ = true;
  {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return stop_requested_ || loops_ended_ == loops_.size(); });
  }
  // Every loop ended on its own (exit_loop / break_loop on each): that is a stop too. (When a
  // stop was already asked for, this changes nothing: a SIGINT's two seconds still run.)
  stop_now(std::nullopt);
  {
    // No reload from here on; one in progress finishes first (it holds the mutex).
    std::lock_guard lock(reload_mutex_);
    reload_open_ = false;
  }
  // Components first, while the loops may still run their posted work.
  while (components_started_ > 0) {
    Component& component = *components_[--components_started_];
    try {
      component.stop();
      spdlog::info("{} stopped", component.name());
    } catch (const std::exception& e) {
      spdlog::error("{} failed to stop: {}", component.name(), e.what());
    }
  }
  // The loops end as the stop asked (SIGINT: two seconds after the signal).
  {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return loops_ended_ == loops_.size(); });
    release_bases_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // The LoopWorkers stay (ended, their bases freed) until the Server goes: stop(), drain(),
  // exit_loop() and loop() are any thread and may still be running on another thread (a
  // signal, a call that came in as the loops ended on their own).
  state_.store(static_cast<int>(ServerState::kStopped));
  spdlog::info("stopped");
  // Signals are handled until here (a second SIGTERM while shutting down does not kill).
  signals_.reset();
  return exit_code_;
}

void Server::drain(std::optional<reactor::Duration> timeout, bool exit_when_done) {
  int expected = static_cast<int>(ServerState::kServing);
  if (!state_.compare_exchange_strong(expected, static_cast<int>(ServerState::kDraining))) {
    // Already draining: a SIGTERM during an operator's drain still exits when done.
    if (expected == static_cast<int>(ServerState::kDraining) && exit_when_done) {
      shared_->exit_when_drained.store(true);
      if (open_connections() == 0) request_stop(0);
    }
    return;
  }
  shared_->exit_when_drained.store(exit_when_done);
  const reactor::Duration deadline = timeout.value_or(config_.drain_timeout);
  spdlog::info("draining: not accepting; {} connections have {} to leave", open_connections(),
               format_duration(deadline));
  for (auto& loop : loops_) {
    LoopWorker* worker = loop.get();
    worker->post([worker, deadline] { worker->begin_drain(deadline); });
  }
  if (exit_when_done && open_connections() == 0) {
    spdlog::info("drain complete: no connection left");
    request_stop(0);
  }
}

bool Server::accepting() const { return shared_->accepting(); }

std::optional<std::chrono::steady_clock::time_point> Server::stop_deadline() const {
  const std::int64_t ns = stop_deadline_ns_.load();
  if (ns == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

bool Server::resume(std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return false;
  };
  if (state() != ServerState::kDraining) {
    return fail(std::string("the server is not draining (state ") + to_string(state()) + ")");
  }
  // Step 1: listen again on the bound address (same port, also when --listen said port 0),
  // on every live loop (reuseport) or on the first live one (single acceptor). Not accepting
  // yet: a client arriving meanwhile waits in the backlog.
  const bool reuse_port = config_.loops > 1 && config_.accept_mode == AcceptMode::kReusePort;
  std::vector<std::pair<LoopWorker*, std::future<std::optional<std::string>>>> pending;
  for (auto& loop : loops_) {
    if (loop->ended()) continue;
    LoopWorker* worker = loop.get();
    auto promise = std::make_shared<std::promise<std::optional<std::string>>>();
    pending.emplace_back(worker, promise->get_future());
    worker->post([worker, promise, address = bound_address_, reuse_port] {
      promise->set_value(worker->relisten(address, reuse_port));
    });
    if (!reuse_port) break;
  }
  std::string errors;
  std::size_t listening = 0;
  for (auto& [worker, future] : pending) {
    std::optional<std::string> problem;
    try {
      if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        problem = "loop " + std::to_string(worker->index()) + " did not answer";
      } else {
        problem = future.get();
      }
    } catch (const std::future_error&) {
      problem = "loop " + std::to_string(worker->index()) + " ended";
    }
    if (problem)
      errors += (errors.empty() ? "" : "; ") + *problem;
    else
      ++listening;
  }
  if (listening == 0) {
    spdlog::error("resume failed: {}", errors.empty() ? "no live loop" : errors);
    return fail("cannot listen again: " + (errors.empty() ? std::string("no live loop") : errors));
  }
  if (!errors.empty()) spdlog::error("resume: some loops do not listen: {}", errors);
  // Step 2: serving; every loop ends its drain and enables its listener.
  int expected = static_cast<int>(ServerState::kDraining);
  if (!state_.compare_exchange_strong(expected, static_cast<int>(ServerState::kServing))) {
    return fail(std::string("the server is not draining (state ") + to_string(state()) + ")");
  }
  shared_->exit_when_drained.store(false);
  spdlog::info("resumed: listening on {} again", bound_address_.to_string());
  for (auto& loop : loops_) {
    LoopWorker* worker = loop.get();
    worker->post([worker] { worker->end_drain(); });
  }
  return true;
}

void Server::exit_loop(std::size_t index, std::optional<reactor::Duration> delay) {
  loops_.at(index)->exit_loop(delay);
}

void Server::break_loop(std::size_t index) { loops_.at(index)->break_loop(); }

std::uint64_t Server::add_observer(const std::shared_ptr<ConnectionObserver>& observer) {
  const std::uint64_t id = next_observer_id_.fetch_add(1);
  for (auto& loop : loops_) {
    LoopWorker* worker = loop.get();
    worker->post([worker, id, observer] { worker->add_observer(id, observer); });
  }
  return id;
}

void Server::remove_observer(std::uint64_t observer_id) {
  for (auto& loop : loops_) {
    LoopWorker* worker = loop.get();
    worker->post([worker, observer_id] { worker->remove_observer(observer_id); });
  }
}

}  // namespace reactord
