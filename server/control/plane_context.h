// PlaneContext: what the control plane's services share — the Server they look into, the
// token checker, start time, the bound address, and the open WatchConnections streams (woken
// when the control plane stops). No gRPC in here.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "auth.h"
#include "connection_watcher.h"
#include "reactor/clock.h"

namespace reactord {
class Server;
}

namespace reactord::control {

struct PlaneContext {
  PlaneContext(Server& s, TokenAuth a) : server(s), auth(std::move(a)) {}

  Server& server;
  const TokenAuth auth;
  bool client_certificates = false;  // mTLS: the transport already authenticated the peer
  std::chrono::system_clock::time_point started_wall = std::chrono::system_clock::now();
  reactor::TimePoint started = reactor::Clock::now();
  std::string control_address;       // bound, port resolved
  std::atomic<bool> stopping{false};
  // Called after Drain / Resume so health answers at once (set by ControlPlane). Any thread.
  std::function<void()> sync_health;

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

 private:
  std::mutex mutex;
  std::set<std::shared_ptr<ConnectionWatcher>> watchers;
};

}  // namespace reactord::control
