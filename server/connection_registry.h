// ConnectionRegistry: the connections of one loop, by id. Owned by that loop's LoopWorker and
// touched only on its loop thread; other threads read it through LoopWorker::post(), e.g.
//   worker.post([&worker, promise] { promise->set_value(worker.registry().snapshot()); });
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "server/connection_record.h"

namespace reactord {

class Connection;

class ConnectionRegistry {
 public:
  ConnectionRegistry();
  ~ConnectionRegistry();
  ConnectionRegistry(const ConnectionRegistry&) = delete;
  ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

  // Number of connections. Loop thread only.
  std::size_t size() const { return connections_.size(); }
  bool empty() const { return connections_.empty(); }

  // The connection with this id, or nullptr. Loop thread only.
  Connection* find(std::uint64_t id) const;
  // The record of one connection, or nullopt. Loop thread only.
  std::optional<ConnectionRecord> record(std::uint64_t id) const;
  // Records of every connection, ordered by id. Loop thread only.
  std::vector<ConnectionRecord> snapshot() const;
  // Ids of every connection (unordered). Loop thread only.
  std::vector<std::uint64_t> ids() const;
  // Sum of input / output bytes buffered by every connection. Loop thread only.
  std::size_t buffered_in() const;
  std::size_t buffered_out() const;

  // Adds a connection (its id must be new). Loop thread only.
  void insert(std::unique_ptr<Connection> connection);
  // Takes a connection out (nullptr if unknown). The caller decides when to destroy it — from
  // inside its callbacks, through EventBase::defer_delete. Loop thread only.
  std::unique_ptr<Connection> remove(std::uint64_t id);
  // Removes and returns them all (shutdown). Loop thread only.
  std::vector<std::unique_ptr<Connection>> remove_all();

 private:
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
};

}  // namespace reactord
