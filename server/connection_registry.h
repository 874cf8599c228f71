// ConnectionRegistry: the connections of one loop, by id. Owned by that loop's LoopWorker and
// touched only on its loop thread; other threads read it through LoopWorker::post(), e.g.
//   worker.post([&worker, promise] { promise->set_value(worker.registry().snapshot()); });
//
// Layout: a deque of (id, owner) sorted by id. Ids come from one process-wide counter and a
// loop inserts each connection right after taking its id, so insertion is always an append;
// find() is a binary search; removal leaves a hole that later compaction squeezes out. That is
// 16 bytes per connection (a hash map node plus buckets cost ~40) and it gives the control
// plane id-ordered paging without a sort. A deque, not a vector: it grows by 512-byte blocks,
// so its unused room is one block at most, where a vector that doubles holds up to as much
// again unused (at 10,000 connections a vector of 16,384 entries: 26 bytes per connection
// instead of 16.5; issue #19).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
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
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // The connection with this id, or nullptr. Loop thread only.
  Connection* find(std::uint64_t id) const;
  // The record of one connection, or nullopt. Loop thread only.
  std::optional<ConnectionRecord> record(std::uint64_t id) const;
  // Records of every connection, ordered by id. Loop thread only.
  std::vector<ConnectionRecord> snapshot() const;
  // Calls f(Connection&) for each connection with id >= start_id, in ascending id order,
  // until f returns false. f must not insert or remove connections. Loop thread only.
  template <class F>
  void for_each_from(std::uint64_t start_id, F&& f) const {
    for (auto it = lower_bound(start_id); it != entries_.end(); ++it) {
      if (it->second && !f(*it->second)) return;
    }
  }
  // The highest id open now, 0 if none. Loop thread only.
  std::uint64_t last_id() const {
    // Reverse iterators, not std::views::reverse: clang-14 (the fuzz preset) cannot compile
    // libstdc++ 12's <ranges>.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->second) return it->first;
    }
    return 0;
  }
  // Ids of every connection (ascending). Loop thread only.
  std::vector<std::uint64_t> ids() const;
  // Sum of input / output bytes buffered by every connection. Loop thread only.
  std::size_t buffered_in() const;
  std::size_t buffered_out() const;

  // Adds a connection. Its id must be greater than every id inserted before (ids come from a
  // growing counter); throws std::logic_error otherwise. Loop thread only.
  void insert(std::unique_ptr<Connection> connection);
  // Takes a connection out (nullptr if unknown). The caller decides when to destroy it — from
  // inside its callbacks, through EventBase::defer_delete. Loop thread only.
  std::unique_ptr<Connection> remove(std::uint64_t id);
  // Removes and returns them all (shutdown). Loop thread only.
  std::vector<std::unique_ptr<Connection>> remove_all();

 private:
  using Entry = std::pair<std::uint64_t, std::unique_ptr<Connection>>;  // null = removed
  std::deque<Entry>::const_iterator lower_bound(std::uint64_t id) const;
  void compact();

  std::deque<Entry> entries_;
  std::size_t live_ = 0;
};

}  // namespace reactord
