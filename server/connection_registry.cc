#include "server/connection_registry.h"

#include <algorithm>

#include "server/connection.h"

namespace reactord {

ConnectionRegistry::ConnectionRegistry() = default;
ConnectionRegistry::~ConnectionRegistry() = default;

Connection* ConnectionRegistry::find(std::uint64_t id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

std::optional<ConnectionRecord> ConnectionRegistry::record(std::uint64_t id) const {
  const Connection* c = find(id);
  if (c == nullptr) return std::nullopt;
  return c->record();
}

std::vector<ConnectionRecord> ConnectionRegistry::snapshot() const {
  std::vector<ConnectionRecord> records;
  records.reserve(connections_.size());
  for (const auto& [id, c] : connections_) records.push_back(c->record());
  std::sort(records.begin(), records.end(),
            [](const ConnectionRecord& a, const ConnectionRecord& b) { return a.id < b.id; });
  return records;
}

std::vector<std::uint64_t> ConnectionRegistry::ids() const {
  std::vector<std::uint64_t> out;
  out.reserve(connections_.size());
  for (const auto& entry : connections_) out.push_back(entry.first);
  return out;
}

std::size_t ConnectionRegistry::buffered_in() const {
  std::size_t total = 0;
  for (const auto& entry : connections_) total += entry.second->buffered_in();
  return total;
}

std::size_t ConnectionRegistry::buffered_out() const {
  std::size_t total = 0;
  for (const auto& entry : connections_) total += entry.second->buffered_out();
  return total;
}

void ConnectionRegistry::insert(std::unique_ptr<Connection> connection) {
  const std::uint64_t id = connection->id();
  connections_.emplace(id, std::move(connection));
}

std::unique_ptr<Connection> ConnectionRegistry::remove(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return nullptr;
  std::unique_ptr<Connection> c = std::move(it->second);
  connections_.erase(it);
  return c;
}

std::vector<std::unique_ptr<Connection>> ConnectionRegistry::remove_all() {
  std::vector<std::unique_ptr<Connection>> out;
  out.reserve(connections_.size());
  for (auto& entry : connections_) out.push_back(std::move(entry.second));
  connections_.clear();
  return out;
}

}  // namespace reactord
