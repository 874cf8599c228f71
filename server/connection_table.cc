#include "server/connection_table.h"

#include "server/connection.h"
#include "server/loop_counters.h"
#include "server/cross_loop_state.h"

namespace reactord {

ConnectionTable::ConnectionTable(CrossLoopState& shared, LoopCounters& counters)
    : shared_(shared), counters_(counters) {}

ConnectionTable::~ConnectionTable() = default;

std::uint64_t ConnectionTable::take_id() {
  return shared_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
}

Connection& ConnectionTable::insert(std::unique_ptr<Connection> connection) {
  Connection& c = *connection;
  registry_.insert(std::move(connection));
  counters_.accepted.add();
  counters_.open_connections.set(registry_.size());
  return c;
}

std::unique_ptr<Connection> ConnectionTable::remove(std::uint64_t id) {
  std::unique_ptr<Connection> owned = registry_.remove(id);
  counters_.open_connections.set(registry_.size());
  close_waiters_.on_closed(id);
  return owned;
}

std::vector<std::unique_ptr<Connection>> ConnectionTable::remove_all() {
  std::vector<std::unique_ptr<Connection>> all = registry_.remove_all();
  counters_.open_connections.set(0);
  return all;
}

std::uint32_t ConnectionTable::count_open(const std::vector<std::uint64_t>& ids) const {
  std::uint32_t n = 0;
  for (std::uint64_t id : ids) n += is_open(id) ? 1 : 0;
  return n;
}

bool ConnectionTable::close(std::uint64_t id, CloseReason reason, bool graceful,
                            std::optional<reactor::Duration> deadline) {
  Connection* c = registry_.find(id);
  if (c == nullptr) return false;
  c->close(reason, graceful, deadline);
  return true;
}

void ConnectionTable::close_all(CloseReason reason, bool graceful,
                                std::optional<reactor::Duration> deadline) {
  // By id, not by iterating the registry: a close may remove the connection from it.
  for (std::uint64_t id : registry_.ids()) close(id, reason, graceful, deadline);
}

void ConnectionTable::close_idle(reactor::TimePoint now, reactor::Duration min_idle) {
  const Connection::RecordParts parts{.local_address = false, .created_wall = false};
  std::vector<std::uint64_t> idle_ids;
  registry_.for_each_from(0, [&](const Connection& c) {
    if (now - c.record(parts).last_activity >= min_idle) idle_ids.push_back(c.id());
    return true;
  });
  for (std::uint64_t id : idle_ids) close(id, CloseReason::kDrain, /*graceful=*/true);
}

void ConnectionTable::mark_draining(bool draining) {
  for (std::uint64_t id : registry_.ids()) {
    if (Connection* c = registry_.find(id)) c->set_draining(draining);
  }
}

void ConnectionTable::when_closed(const std::vector<std::uint64_t>& ids, std::function<void()> done) {
  std::vector<std::uint64_t> open;
  for (std::uint64_t id : ids) {
    if (registry_.find(id) != nullptr) open.push_back(id);
  }
  close_waiters_.add(open, std::move(done));
}

void ConnectionTable::for_each_record_from(std::uint64_t start_id, bool with_local_address,
                                           const std::function<bool(ConnectionRecord&)>& f) const {
  const Connection::RecordParts parts{.local_address = with_local_address, .created_wall = false};
  registry_.for_each_from(start_id, [&](const Connection& conn) {
    ConnectionRecord record = conn.record(parts);
    return f(record);
  });
}

reactor::SocketAddress ConnectionTable::local_address_of(std::uint64_t id) const {
  const Connection* conn = registry_.find(id);
  return conn != nullptr ? conn->local_address() : reactor::SocketAddress();
}

}  // namespace reactord
