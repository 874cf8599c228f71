// ConnectionTable: the connections one loop owns (muduo's TcpServer::connections_) — the
// registry by id, the open-connections gauge, connection ids from the process-wide counter, the
// close callbacks of CloseConnections{wait} (CloseWaiters), and what the loop does to all or
// some of its connections (close, mark draining, scan their records).
//
// It only holds and finds: setting a connection up and hearing its close are the LoopWorker's
// (which then calls insert / remove here).
//
// Thread rule: loop thread only (the LoopWorker owns it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "reactor/event_base.h"
#include "reactor/socket_address.h"
#include "server/close_waiters.h"
#include "server/connection_record.h"
#include "server/connection_registry.h"

namespace reactord {

class Connection;
struct LoopCounters;
struct CrossLoopState;

class ConnectionTable {
 public:
  ConnectionTable(CrossLoopState& shared, LoopCounters& counters);
  ~ConnectionTable();
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // A fresh connection id (unique across loops, never reused). Loop thread only.
  std::uint64_t take_id();
  // Adds a connection set up with the last id taken; counts it accepted and open. Loop thread
  // only.
  Connection& insert(std::unique_ptr<Connection> connection);
  // Takes a closed connection out (nullptr if unknown), updates the open gauge and completes
  // the close callbacks whose last id it was. The caller destroys it later (defer_delete: it
  // may be inside its own callback). Loop thread only.
  std::unique_ptr<Connection> remove(std::uint64_t id);
  // Shutdown: takes every connection out; the open gauge drops to 0. Loop thread only.
  std::vector<std::unique_ptr<Connection>> remove_all();

  // The registry (find, for_each_from, snapshot). Loop thread only.
  const ConnectionRegistry& registry() const { return registry_; }
  ConnectionRegistry& registry() { return registry_; }
  Connection* find(std::uint64_t id) const { return registry_.find(id); }
  std::size_t size() const { return registry_.size(); }
  bool empty() const { return registry_.empty(); }
  // Whether connection `id` is open here; how many of `ids` are. Loop thread only.
  bool is_open(std::uint64_t id) const { return registry_.find(id) != nullptr; }
  std::uint32_t count_open(const std::vector<std::uint64_t>& ids) const;

  // Closes one connection (see Connection::close); false if the id is not here. Loop thread
  // only.
  bool close(std::uint64_t id, CloseReason reason, bool graceful,
             std::optional<reactor::Duration> deadline = std::nullopt);
  // Closes every connection. Loop thread only.
  void close_all(CloseReason reason, bool graceful, std::optional<reactor::Duration> deadline = std::nullopt);
  // Closes gracefully (reason drain) every connection idle (no byte in or out) for at least
  // `min_idle` at `now`. Loop thread only.
  void close_idle(reactor::TimePoint now, reactor::Duration min_idle);
  // Marks every connection draining, or open again. Loop thread only.
  void mark_draining(bool draining);
  // Calls done() once none of `ids` is open here — at once when none is now (ids of other
  // loops count as gone). Loop thread only.
  void when_closed(const std::vector<std::uint64_t>& ids, std::function<void()> done);

  // The control plane's scans: f(record) for each connection with id >= start_id, ascending,
  // until f returns false (it may move the record out); local address only
  // `with_local_address`, never the wall-clock opening time. Loop thread only.
  void for_each_record_from(std::uint64_t start_id, bool with_local_address,
                            const std::function<bool(ConnectionRecord&)>& f) const;
  // Our side of connection `id`'s socket; unspecified if the id is not here. Loop thread only.
  reactor::SocketAddress local_address_of(std::uint64_t id) const;

 private:
  CrossLoopState& shared_;
  LoopCounters& counters_;
  ConnectionRegistry registry_;
  CloseWaiters close_waiters_;
};

}  // namespace reactord
