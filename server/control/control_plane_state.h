// ControlPlaneState (formerly PlaneContext): what the control plane's services share — the Server they look
// into, the token checker, start time, the bound address, and the open WatchConnections streams (woken when
// the control plane stops). No gRPC in here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "auth.h"
#include "connection_watcher.h"
#include "watch_budget.h"
#include "server/service_values.h"

namespace reactord {
class Server;
}

namespace reactord::control {

struct ControlPlaneState {
  ControlPlaneState(Server& s, TokenAuth a)
      : server(s), auth_(std::make_shared<const TokenAuth>(std::move(a))) {}

  Server& server;
  // The tokens in force. A reload swaps the whole set; a call checks against the one it got
  // (never half old, half new), and a call in flight keeps its copy alive. Any thread.
  std::shared_ptr<const TokenAuth> auth() const {
    std::lock_guard lock(auth_mutex_);
    return auth_;
  }
  void set_auth(TokenAuth a) {
    auto fresh = std::make_shared<const TokenAuth>(std::move(a));
    std::lock_guard lock(auth_mutex_);
    auth_.swap(fresh);  // the old set is freed outside the lock, by whoever drops it last
  }
  bool client_certificates = false;  // mTLS: the transport already authenticated the peer
  std::chrono::system_clock::time_point started_wall = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  SocketAddress control_listen;                // as configured (set before serving)
  std::atomic<std::uint16_t> control_port{0};  // bound port, set once serving
  std::atomic<bool> stopping{false};
  // Called after Drain / Resume so health answers at once. Set before serving starts, then
  // only read. Any thread.
  std::function<void()> sync_health;
  // The bounds on WatchConnections streams (count, bytes). Set before serving.
  std::unique_ptr<WatchBudget> watch_budget;

  // The control address with the bound port ("127.0.0.1:50051"). Any thread.
  std::string control_address() const {
    SocketAddress a = control_listen;
    a.set_port(control_port.load());
    return a.to_string();
  }

  // Open watch streams, so that stop() can wake them. Any thread.
  void add_watcher(const std::shared_ptr<ConnectionWatcher>& w) {
    std::lock_guard lock(mutex);
    watchers.insert(w);
  }
  void remove_watcher(const std::shared_ptr<ConnectionWatcher>& w) {
    std::lock_guard lock(mutex);
    watchers.erase(w);
  }
  void wake_watchers() {
    std::lock_guard lock(mutex);
    for (const auto& w : watchers) w->wake();
  }
  // Cancels the calls of failed watchers whose handler is stuck in a write (see
  // ConnectionWatcher::cancel_if_stuck). Under the mutex: a handler removes its watcher
  // before its context goes. Any thread (the control plane's housekeeping).
  void cancel_stuck_watchers(std::chrono::steady_clock::duration grace) {
    std::lock_guard lock(mutex);
    for (const auto& w : watchers) w->cancel_if_stuck(grace);
  }

 private:
  mutable std::mutex auth_mutex_;
  std::shared_ptr<const TokenAuth> auth_;
  std::mutex mutex;
  std::set<std::shared_ptr<ConnectionWatcher>> watchers;
};

}  // namespace reactord::control
