#include "server/connection_registry.h"

#include <algorithm>
#include <stdexcept>

#include "server/connection.h"

namespace reactord {

ConnectionRegistry::ConnectionRegistry() = default;
ConnectionRegistry::~ConnectionRegistry() = default;

std::deque<ConnectionRegistry::Entry>::const_iterator ConnectionRegistry::lower_bound(
    std::uint64_t id) const {
  return std::lower_bound(entries_.begin(), entries_.end(), id,
                          [](const Entry& e, std::uint64_t key) { return e.first < key; });
}

Connection* ConnectionRegistry::find(std::uint64_t id) const {
  auto it = lower_bound(id);
  return it == entries_.end() || it->first != id ? nullptr : it->second.get();
}

std::optional<ConnectionRecord> ConnectionRegistry::record(std::uint64_t id) const {
  const Connection* c = find(id);
  if (c == nullptr) return std::nullopt;
  return c->record();
}

std::vector<ConnectionRecord> ConnectionRegistry::snapshot() const {
  std::vector<ConnectionRecord> records;
  records.reserve(live_);
  for_each_from(0, [&](const Connection& c) {
    records.push_back(c.record());
    return true;
  });
  return records;
}

std::vector<std::uint64_t> ConnectionRegistry::ids() const {
  std::vector<std::uint64_t> out;
  out.reserve(live_);
  for (const auto& [id, c] : entries_) {
    if (c) out.push_back(id);
  }
  return out;
}

std::size_t ConnectionRegistry::buffered_in() const {
  std::size_t total = 0;
  for_each_from(0, [&](const Connection& c) {
    total += c.buffered_in();
    return true;
  });
  return total;
}

std::size_t ConnectionRegistry::buffered_out() const {
  std::size_t total = 0;
  for_each_from(0, [&](const Connection& c) {
    total += c.buffered_out();
    return true;
  });
  return total;
}

void ConnectionRegistry::insert(std::unique_ptr<Connection> connection) {
  const std::uint64_t id = connection->id();
  if (!entries_.empty() && entries_.back().first >= id) {
    throw std::logic_error("ConnectionRegistry: ids must be inserted in increasing order");
  }
  entries_.emplace_back(id, std::move(connection));
  ++live_;
}

std::unique_ptr<Connection> ConnectionRegistry::remove(std::uint64_t id) {
  auto it = entries_.begin() + (lower_bound(id) - entries_.cbegin());
  if (it == entries_.end() || it->first != id || !it->second) return nullptr;
  std::unique_ptr<Connection> c = std::move(it->second);
  --live_;
  // Trailing holes go at once; inner holes once they are the majority (amortised O(1)).
  while (!entries_.empty() && !entries_.back().second) entries_.pop_back();
  if (live_ * 2 < entries_.size()) compact();
  return c;
}

void ConnectionRegistry::compact() {
  std::erase_if(entries_, [](const Entry& e) { return !e.second; });
  entries_.shrink_to_fit();  // gives back the blocks and map room the holes held
}

std::vector<std::unique_ptr<Connection>> ConnectionRegistry::remove_all() {
  std::vector<std::unique_ptr<Connection>> out;
  out.reserve(live_);
  for (auto& entry : entries_) {
    if (entry.second) out.push_back(std::move(entry.second));
  }
  entries_.clear();
  live_ = 0;
  return out;
}

}  // namespace reactord
