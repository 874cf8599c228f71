// LoopWorker: one event loop of reactord — one thread, one EventBase, and the connection
// service that lives on it, in parts with their own files (muduo's TcpServer split):
//   Acceptor             listeners, hand-over, the drain's backlog, admission (acceptor.h)
//   ConnectionTable      the connections by id, open gauge, ids, close waiters (connection_table.h)
//   Drain                draining flag, deadline and progress timers (drain.h)
//   ConnectionObservers  watchers of the connections (connection_observers.h)
// LoopWorker composes them, sets up each admitted connection, hears its close, and keeps the
// thread door: post() and the loop's run/exit.
//
// Thread rule: base(), registry(), listener() and every method marked "loop thread only" are
// for code running on this loop's thread: its callbacks, and functions given to post(). Other
// threads (gRPC handlers, the metrics scrape, main) use post() and the counters.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/listener.h"
#include "reactor/tls_buffer_event.h"
#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"
#include "server/acceptor.h"
#include "server/connection_context.h"
#include "server/connection_observers.h"
#include "server/connection_owner.h"
#include "server/connection_record.h"
#include "server/connection_registry.h"
#include "server/connection_side_tables.h"
#include "server/connection_table.h"
#include "server/drain.h"
#include "server/loop_counters.h"
#include "server/loop_rate_limits.h"

namespace reactord {

struct Config;
class ConnectionObserver;
class Connection;
class IdleTracker;
struct CrossLoopState;

class LoopWorker final : public ConnectionOwner {
 public:
  // Creates the EventBase on the calling thread (Server::start, on the main thread); the base
  // is handed over to the loop thread by run(). Not yet listening. Main thread only.
  LoopWorker(unsigned index, const Config& config, CrossLoopState& shared);
  // Call only after run() and destroy_base() have returned on the loop thread (Server does).
  // Main thread only.
  ~LoopWorker();
  LoopWorker(const LoopWorker&) = delete;
  LoopWorker& operator=(const LoopWorker&) = delete;

  // This loop's index (0 .. loops-1). Any thread.
  unsigned index() const { return index_; }

  // Runs fn on this loop's thread, in order. If the loop has ended, fn is destroyed without
  // running when the server shuts down — capture a std::promise in fn so a waiter sees
  // broken_promise instead of hanging. Any thread.
  void post(std::function<void()> fn);
  // Whether the loop thread is inside EventBase::loop(). Any thread.
  bool running() const { return running_.load(std::memory_order_acquire); }
  // Whether the loop has run and ended (then posted functions never run). Unlike !running(),
  // false before the loop thread first enters the loop. Any thread.
  bool ended() const { return ended_.load(std::memory_order_acquire); }

  // libevent's loopexit(delay) / loopbreak on this loop. Any thread.
  void exit_loop(std::optional<reactor::Duration> delay = std::nullopt);
  void break_loop();

  // Counters (relaxed atomics). Any thread.
  const LoopCounters& counters() const { return counters_; }
  // The address this loop accepts on (port resolved), or unspecified when it has no listener
  // (AcceptMode::kSingle, loops other than 0). Set before the loop runs; any thread.
  const reactor::SocketAddress& listen_address() const { return acceptor_.listen_address(); }

  // Loop thread only.
  reactor::EventBase& base() { return *base_; }
  ConnectionRegistry& registry() { return connections_.registry(); }
  reactor::Listener* listener() { return acceptor_.listener(); }  // nullptr without one
  // --tls-listen's listener (loop 0 only; nullptr without one). Loop thread only.
  reactor::Listener* tls_listener() { return acceptor_.tls_listener(); }
  // The address --tls-listen accepts on (port resolved); unspecified without one. Set before
  // the loop runs; any thread.
  const reactor::SocketAddress& tls_listen_address() const { return acceptor_.tls_listen_address(); }

  // Closes one connection: gracefully (every queued byte, then FIN, then the peer's EOF; a
  // reset only at `deadline` if output is still queued then — without a deadline, when nothing
  // moved for the stall bound, see Connection::close) or abortively (RST). Observers hear
  // "closed" with `reason`. False if the id is not on this loop. Loop thread only.
  bool close_connection(std::uint64_t id, CloseReason reason, bool graceful = true,
                        std::optional<reactor::Duration> deadline = std::nullopt);
  // Calls done() on this loop's thread once none of `ids` is open on this loop — at once when
  // none is now (ids of other loops count as gone): a caller waiting for closes is told, it
  // does not ask again. If the loop ends first, done is destroyed with the loop, uncalled
  // unless the shutdown closed the last of them. Loop thread only.
  void when_closed(const std::vector<std::uint64_t>& ids, std::function<void()> done);
  // Whether connection `id` is open on this loop; how many of `ids` are. Loop thread only.
  bool is_open(std::uint64_t id) const { return connections_.is_open(id); }
  std::uint32_t count_open(const std::vector<std::uint64_t>& ids) const {
    return connections_.count_open(ids);
  }
  // Drain's close_idle_after: after `after`, if this loop is still draining, closes gracefully
  // (reason drain) every connection that has been idle (no byte in or out) for at least
  // `min_idle`. Loop thread only.
  void close_idle_later(reactor::Duration after, reactor::Duration min_idle);

  // Observers of this loop's connections (see ConnectionObserver). add: the observer gets the
  // current connections in slices (on_existing…, on_attached), one per loop iteration, and
  // every change from now on. Loop thread only
  // (Server::add_observer posts these to every loop).
  void add_observer(std::uint64_t observer_id, std::shared_ptr<ConnectionObserver> observer);
  // Connections listed to a new observer per loop iteration (see ConnectionObserver), and
  // examined per iteration by the control plane's scans (filters, pages, close selection).
  static constexpr std::size_t kListingSlice = ConnectionObservers::kListingSlice;
  void remove_observer(std::uint64_t observer_id);

  // ---- inspection: what the control plane reads, as values (call inside call_loops) ----

  // The reactor's backend ("epoll", "poll"), its events, their counts, its statistics, and
  // how many connections this loop has. Loop thread only.
  std::string backend_name() const;
  std::vector<reactor::EventInfo> event_snapshot() const;
  reactor::EventCounts event_counts() const;
  reactor::LoopStats loop_stats() const;
  std::size_t connection_count() const { return connections_.size(); }
  // One connection in detail: its record with the details part filled (its socket and
  // buffers' settings, TCP_INFO, and its own reactor events — not the loop's idle sweep timer,
  // which every connection shares). nullopt if the id is not on this loop. Loop thread only.
  std::optional<ConnectionRecord> connection_detail(std::uint64_t id) const;

  // The control plane's scans: calls f(record) for each connection with id >= start_id, in
  // ascending id order, until f returns false; f may keep the record (move it out). A record
  // has its local address only with `with_local_address` (a getsockname() each), never its
  // wall-clock opening time (the scan converts the steady one once). Loop thread only.
  void for_each_record_from(std::uint64_t start_id, bool with_local_address,
                            const std::function<bool(ConnectionRecord&)>& f) const;
  // Our side of connection `id`'s socket; unspecified if the id is not on this loop. Loop
  // thread only.
  reactor::SocketAddress local_address_of(std::uint64_t id) const;

  // ---- used by Server and Connection (not by components) ----

  // Binds this loop's listener (socket + bind + listen; SO_REUSEPORT when `reuse_port`).
  // Throws std::system_error with the address in the message. Main thread, before run().
  void bind(const reactor::SocketAddress& address, bool reuse_port);
  // Binds --tls-listen's listener (loop 0). Throws std::system_error. Main thread, before run().
  void bind_tls(const reactor::SocketAddress& address);
  // Starts accepting on a listening socket opened elsewhere (Resume after a drain; taking
  // over from the single acceptor that ended). Loop thread only (or before run()).
  // `enabled` false: listening (clients wait in the backlog) but not accepting yet.
  void adopt_listener(reactor::UniqueFd fd, bool enabled = true);
  // Resume, step 1: listens again on `address` (the bound address, port resolved), not yet
  // accepting (end_drain enables it). An error line, or nothing. Loop thread only.
  std::optional<std::string> relisten(const reactor::SocketAddress& address, bool reuse_port);
  // The loop thread's body: enters the loop until exit, then closes what is left (reason
  // shutdown). Returns when the loop has ended. Called on the loop thread by Server.
  void run();
  // Takes over a connection accepted elsewhere (AcceptMode::kSingle; `tls`: a --tls-listen
  // client from loop 0): admitted, then served here. Loop thread only.
  void adopt(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls = false) {
    acceptor_.take(std::move(fd), peer, tls);
  }
  // Drain, as HAProxy's soft-stop: the connections already in the listener's backlog are
  // accepted (served as draining), then the listening socket is closed, so that a new client
  // is refused at once (ECONNREFUSED) instead of waiting for a greeting that never comes.
  // Connections are marked draining; at `deadline` what is left is closed (gracefully, reason
  // drain). end_drain undoes the marks (Server::resume listens again). Loop thread only.
  void begin_drain(reactor::Duration deadline);
  void end_drain();
  void close_all(CloseReason reason, bool graceful, std::optional<reactor::Duration> deadline = std::nullopt);
  // Keeps an event (e.g. a signal event) that must die with this loop, on its thread.
  // Loop thread only.
  void own(std::unique_ptr<reactor::Event> event);
  // After run() returned: frees the events and the base, on the loop thread, once no other
  // thread will post any more. Loop thread only.
  void destroy_base();
  // ConnectionOwner: a Connection's socket is gone — it leaves the table, is counted, the
  // observers are told, and its destruction is deferred. Loop thread only.
  void on_connection_closed(Connection& connection, CloseReason reason) override;
  // ConnectionOwner: a Connection's state changed (the observers are told). Loop thread only.
  void on_connection_state_changed(Connection& connection) override;
  // This loop's rate limits (--rate-limit-*, SetRateLimit). Loop thread only.
  LoopRateLimits& rate_limits() { return *rate_limits_; }
  // SetRateLimit: gives each of `ids` open on this loop its own limit (nullopt: none); ids not
  // here are skipped. Loop thread only.
  void set_rate_limit(const std::vector<std::uint64_t>& ids, std::optional<units::Rate> rate);
  // SetRateLimit target total: sets, changes or removes (nullopt) this loop's share of the
  // listener-wide total; every client of the loop joins it. Loop thread only.
  void set_total_rate_limit(std::optional<units::Rate> rate) {
    rate_limits_->set_total(rate, connections_.registry());
  }

 private:
  // An admitted client (Acceptor's Serve): a Connection in the table, observers told, started.
  void setup_connection(reactor::UniqueFd fd, const reactor::SocketAddress& peer, bool tls);
  void teardown();

  const unsigned index_;
  const Config& config_;
  CrossLoopState& shared_;
  mutable std::mutex base_mutex_;  // post() vs destroy_base()
  std::unique_ptr<reactor::EventBase> base_;
  LoopCounters counters_;
  // Declared before connections_: a Connection's destructor drops its entries here.
  ConnectionSideTables side_tables_;
  ConnectionTable connections_;
  Acceptor acceptor_;
  ConnectionContext context_;  // what every Connection of this loop is built with
  Drain drain_;
  std::vector<std::unique_ptr<reactor::Event>> owned_events_;
  std::unique_ptr<IdleTracker> idle_;            // destroyed before base_ (destroy_base)
  std::unique_ptr<LoopRateLimits> rate_limits_;  // destroyed before base_ (destroy_base)
  ConnectionObservers observers_;
  std::atomic<bool> running_{false};
  std::atomic<bool> ended_{false};
};

}  // namespace reactord
