// ConnectionWatcher: one WatchConnections stream's observer. Loop threads push opened /
// closed / state-change items into a bounded queue (a slow client costs a counter, never
// memory or echo latency: when the queue is full the item is dropped and counted, and the next
// delivered item reports how many were lost). The gRPC handler thread takes items out.
//
// Registered with Server::add_observer: each loop first calls on_attached with its current
// connections (queued as "existing"); once every loop expected has done so, a "synced" item
// marks the end of the initial listing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "connection_view.h"
#include "filter.h"
#include "server/connection_observer.h"

namespace reactord::control {

class ConnectionWatcher : public ConnectionObserver {
 public:
  enum class Kind { kExisting, kSynced, kOpened, kClosed, kStateChanged };
  struct Item {
    Kind kind = Kind::kOpened;
    ConnectionView view;
    std::string reason;          // kClosed: why
    std::uint64_t dropped = 0;   // items lost just before this one
    std::chrono::system_clock::time_point time;
  };

  // loops_expected: how many on_attached calls complete the initial listing. Any thread.
  ConnectionWatcher(FilterSpec filter, std::size_t queue_limit, unsigned loops_expected);

  // ConnectionObserver: loop threads.
  void on_attached(unsigned loop, const std::vector<ConnectionRecord>& current) override;
  void on_opened(const ConnectionRecord& record) override;
  void on_state_changed(const ConnectionRecord& record) override;
  void on_closed(const ConnectionRecord& record) override;

  // Waits up to `timeout` for items and takes them all; a trailing drop count with no item
  // after it is returned as dropped_tail. Any thread (the stream's handler).
  std::vector<Item> take(std::chrono::milliseconds timeout, std::uint64_t* dropped_tail);
  // Wakes a take() in progress (server stopping). Any thread.
  void wake();
  // Items dropped since creation. Any thread.
  std::uint64_t dropped_total() const;

 private:
  void push(Kind kind, const ConnectionRecord& record, std::string reason);

  const FilterSpec filter_;
  const std::size_t limit_;
  const unsigned loops_expected_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  std::uint64_t dropped_pending_ = 0;  // not yet reported
  std::uint64_t dropped_total_ = 0;
  unsigned attached_ = 0;
  bool woken_ = false;
};

}  // namespace reactord::control
