// Server: reactord as an object. start() binds the listeners and runs one thread per loop;
// wait() blocks until the server stops and then shuts down in order; drain / resume / stop and
// the per-loop exit/break are the operator's levers (signals, control plane).
//
// Life cycle (ServerState): kCreated → start() → kServing ⇄ kDraining → kStopping → kStopped.
// Stopping is triggered by stop(), SIGINT (after 2 s, as the seed), a SIGTERM drain that has
// finished, or every loop having ended (exit_loop / break_loop on each).
//
// Shutdown order in wait(): components stopped (reverse order, loops still running) → every
// loop ends → each loop thread closes its connections (reason shutdown) → threads joined →
// listeners, events and bases freed. Nothing is freed while a loop still runs.
//
// Typical use (main.cc):
//   Server server(config);                      // config.handle_signals = true
//   server.add_component(std::make_unique<ControlPlane>(...));
//   server.start();                             // throws StartError
//   return server.wait();                       // exit code
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reactor/clock.h"
#include "reactor/socket_address.h"
#include "server/component.h"
#include "server/config.h"
#include "server/connection_observer.h"
#include "server/fd_limits.h"
#include "server/loop_worker.h"
#include "server/reload.h"

namespace reactord {

enum class ServerState : int { kCreated, kServing, kDraining, kStopping, kStopped };
const char* to_string(ServerState state);

// Why start() failed: one line for the operator ("cannot listen on 0.0.0.0:9995: Address
// already in use").
class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A start failure that is the configuration's fault (main exits 2): "--control-token-file
// /etc/x: holds no token". Thrown before anything was bound.
class ConfigError : public StartError {
 public:
  using StartError::StartError;
};

struct CrossLoopState;
class SignalLoop;

class Server {
 public:
  // Keeps a copy of config. Main thread.
  explicit Server(Config config);
  // Stops (as stop() + wait()) if still running. Main thread.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Attach a component before start(); started after the loops, stopped before them.
  // Main thread.
  void add_component(std::unique_ptr<Component> component);

  // Prepares every component (configuration and files checked: ConfigError) and checks that
  // --listen can be bound, all before binding anything; then creates the loops, binds the listeners (logs
  // "listening on <addr> (N loops)"), starts the loop threads, starts the signal thread (SignalLoop, if
  // config.handle_signals), then starts the components. Throws StartError with a clear message (nothing left
  // running). Main thread.
  void start();
  // Blocks until the server stops, then shuts down in order (see above). Returns the exit code
  // (0 for a clean stop). Main thread, once.
  int wait();

  // The configuration in use (immutable). Any thread.
  const Config& config() const { return config_; }
  // The address clients connect to (port resolved when --listen asked for port 0). Valid after
  // start(). Any thread.
  reactor::SocketAddress listen_address() const;
  // --tls-listen's address (port resolved); nullopt without --tls-listen. Valid after start().
  // Any thread.
  std::optional<reactor::SocketAddress> tls_listen_address() const;
  // Reload of the TLS data plane's certificate, key and client CA (--tls-cert, --tls-key,
  // --tls-client-ca): new handshakes use them, live connections keep theirs. A bad file keeps
  // the old context: false with one line in *error. True without --tls-listen. Any thread.
  bool reload_tls(std::string* error);

  // Number of loops, and one of them (index < loop_count()). Valid after start(), until the
  // Server is destroyed (after wait() they have ended). Any thread (LoopWorker's own thread
  // rules apply).
  std::size_t loop_count() const { return loops_.size(); }
  LoopWorker& loop(std::size_t index) { return *loops_.at(index); }

  // Connections open across all loops (relaxed atomic). Any thread.
  std::size_t open_connections() const;
  // The fd budget set at start (--fd-reserve): reserved fds and the data connection cap.
  // Valid after start(). Any thread.
  const FdBudget& fd_budget() const { return fd_budget_; }
  // Any thread.
  ServerState state() const { return static_cast<ServerState>(state_.load()); }

  // Stop listening (each loop accepts its backlog, then closes its listening socket: new
  // clients are refused at once), mark connections draining, and let clients leave; at `timeout`
  // (default --drain-timeout) close what is left gracefully. With exit_when_done (SIGTERM)
  // the server stops once no connection is left. Ignored unless serving. Any thread.
  void drain(std::optional<reactor::Duration> timeout = std::nullopt, bool exit_when_done = false);
  // Undo a drain that has not finished: listen again on the same address (the bound port),
  // accept again, connections back to open. Returns false with the reason in *error if the
  // server is not draining or no loop could listen again. Any thread but a loop's (it waits
  // for the loops, at most a few seconds).
  bool resume(std::string* error = nullptr);
  // Serving and some loop listens (false while draining, or if no loop accepts). Any thread.
  bool accepting() const;
  // When the process must be gone, if that is decided: a SIGTERM sets it to the signal's time
  // + --drain-timeout + 1 s. Components bound their stop by it. Any thread.
  std::optional<std::chrono::steady_clock::time_point> stop_deadline() const;
  // Begin the ordered stop now (connections closed with reason shutdown). Any thread.
  void stop();
  // Stop after `delay`: the loops keep serving until then (SIGINT uses 2 s). Any thread.
  void stop_after(reactor::Duration delay);

  // libevent's loopexit(delay) / loopbreak on one loop. When every loop has ended the server
  // stops. Any thread.
  void exit_loop(std::size_t index, std::optional<reactor::Duration> delay = std::nullopt);
  void break_loop(std::size_t index);

  // Reload without restart (server/reload.h; SIGHUP and the Control RPC Reload call it): the
  // configuration is parsed again (Config::args, the --config file re-read) and its log
  // level applied (or request.log_level's), flags that changed but need a restart are
  // reported, then every started component's reload() runs. Logged item by item and counted
  // (reload_stats()); the caller writes the audit line. Before start() has finished or once
  // wait() stops the components, a reload does nothing and says so. One at a time. Any thread
  // (not a loop's: a component may wait for the loops).
  ReloadReport reload(const ReloadRequest& request);
  ReloadStats reload_stats() const;
  // The log level in force (--log-level, changed by reloads). Any thread.
  LogLevel log_level() const { return static_cast<LogLevel>(log_level_.load()); }

  // Observers of every loop's connections (see ConnectionObserver). Valid after start().
  // Returns an id for remove_observer. The observer is kept alive until every loop has let it
  // go. Any thread.
  std::uint64_t add_observer(const std::shared_ptr<ConnectionObserver>& observer);
  void remove_observer(std::uint64_t observer_id);

 private:
  friend struct CrossLoopState;
  void request_stop(int exit_code);
  void stop_now(std::optional<reactor::Duration> delay);
  void on_loop_ended(unsigned index);
  void install_signals();  // server_signals.cc
  void set_fd_budget();
  // SIGHUP lands here (server_signals.cc): reload(), then the audit line.
  void on_hangup();
  // SIGTERM (server_signals.cc): drain, and make sure the process ends by the stop deadline.
  void on_terminate();
  [[noreturn]] void on_stop_deadline_passed();
  // The log level / --config part of reload() (server_reload.cc).
  void reload_configuration(const ReloadRequest& request, ReloadReport& report);

  Config config_;
  std::unique_ptr<CrossLoopState> shared_;
  std::vector<std::unique_ptr<LoopWorker>> loops_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Component>> components_;
  std::size_t components_started_ = 0;
  std::atomic<int> state_{static_cast<int>(ServerState::kCreated)};
  std::atomic<std::uint64_t> next_observer_id_{1};
  FdBudget fd_budget_;
  std::optional<reactor::SocketAddress> bound_tls_address_;  // --tls-listen's, port resolved
  reactor::SocketAddress bound_address_;           // the echo address, port resolved (set by start())
  std::atomic<std::int64_t> stop_deadline_ns_{0};  // steady_clock since epoch; 0 = none

  // Reloads: one at a time, only while every component is started (reload_mutex_ also
  // guards reload_open_ and the components' reload() calls against their stop()).
  std::mutex reload_mutex_;
  bool reload_open_ = false;
  std::atomic<int> log_level_{static_cast<int>(LogLevel::kInfo)};
  std::atomic<std::uint64_t> reloads_ok_{0};
  std::atomic<std::uint64_t> reloads_failed_{0};
  std::atomic<std::int64_t> last_reload_unix_ms_{0};
  std::atomic<bool> last_reload_ok_{true};

  std::mutex mutex_;              // guards the fields below
  std::condition_variable wake_;  // stop requested / a loop ended
  bool stop_requested_ = false;
  int exit_code_ = 0;
  std::size_t loops_ended_ = 0;
  bool release_bases_ = false;  // the loop threads may free their bases
  bool waited_ = false;

  // Last member: destroyed first. Its handlers only use what is above.
  std::unique_ptr<SignalLoop> signals_;
};

}  // namespace reactord
