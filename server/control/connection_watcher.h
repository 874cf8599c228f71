// ConnectionWatcher: one WatchConnections stream's observer. Loop threads push opened /
// closed / state-change items into a bounded queue; the gRPC handler thread takes them out.
// Two bounds, so that a watcher that does not read costs a counter, never memory or echo
// latency:
//   - queue_limit (items, chosen by the client): when full, the item is dropped and counted,
//     and the next delivered item reports how many were lost;
//   - bytes (WatchBudget): the items queued or in the handler's hands may take at most
//     --watch-buffer-bytes, and all watchers together --watch-total-bytes. Past either the
//     watcher has failed: its queue is freed at once, nothing more is queued, and the handler
//     ends the stream with RESOURCE_EXHAUSTED (failure()).
// A push costs O(1) in the size of the filter (no copy; ids are binary-searched).
//
// Registered with Server::add_observer: each loop lists its current connections in slices
// (on_existing, then on_attached with the last; queued as "existing"); once every loop
// expected has finished, a "synced" item marks the end of the initial listing. A loop that
// ends first (ExitLoop, BreakLoop) never finishes its listing; the handler reports it with
// on_loop_ended, and the listing stops waiting for it (its connections are gone with it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "filter.h"
#include "watch_budget.h"
#include "server/connection_observer.h"

namespace reactord::control {

class ConnectionWatcher : public ConnectionObserver {
 public:
  enum class Kind { kExisting, kSynced, kOpened, kClosed, kStateChanged };
  struct Item {
    Kind kind = Kind::kOpened;
    ConnectionRecord record;
    std::string reason;         // kClosed: why
    std::uint64_t dropped = 0;  // items lost just before this one
    std::chrono::system_clock::time_point time;
    std::size_t bytes = 0;  // what it is counted for (see release())
  };

  // loops_expected: the loops (indices) whose on_attached, or on_loop_ended, completes the
  // initial listing. budget: the byte bounds (null = none but queue_limit). Any thread.
  ConnectionWatcher(FilterSpec filter, std::size_t queue_limit, std::vector<unsigned> loops_expected,
                    WatchBudget* budget = nullptr);
  ~ConnectionWatcher() override;

  // ConnectionObserver: loop threads.
  void on_existing(unsigned loop, const std::vector<ConnectionRecord>& some) override;
  void on_attached(unsigned loop, const std::vector<ConnectionRecord>& current) override;
  // The listing waits until a whole slice fits the item and byte bounds (or the queue is
  // empty).
  bool ready_for_listing() const override;
  // `loop` has ended (LoopWorker::ended()): it will list nothing more, so the initial listing
  // no longer waits for it. No effect once it has attached. Any thread.
  void on_loop_ended(unsigned loop);
  // Whether the synced marker is still to come. Any thread.
  bool listing() const;
  void on_opened(const ConnectionRecord& record) override;
  void on_state_changed(const ConnectionRecord& record) override;
  void on_closed(const ConnectionRecord& record) override;

  // Waits up to `timeout` for items and takes them all; a trailing drop count with no item
  // after it is returned as dropped_tail. The items stay counted against the byte bounds
  // until release(item.bytes) once written. Returns at once (nothing) after a failure.
  // Any thread (the stream's handler).
  std::vector<Item> take(std::chrono::milliseconds timeout, std::uint64_t* dropped_tail);
  void release(std::size_t bytes);
  // Why the watcher failed (a byte bound, see above); empty while it has not. Any thread.
  std::string failure() const;
  // A handler stuck writing to a client that does not read never sees the failure: the
  // control plane's housekeeping cancels the call (cancel_hook, set by the handler) once the
  // watcher has failed and the handler has sat in one write for `grace`. The hook runs under
  // ControlPlaneState's watcher mutex, so the handler's context is alive. Any thread.
  void set_cancel_hook(std::function<void()> hook);
  void writing(bool in_write);
  void cancel_if_stuck(std::chrono::steady_clock::duration grace);
  // Wakes a take() in progress (server stopping). Any thread.
  void wake();
  // Items dropped since creation. Any thread.
  std::uint64_t dropped_total() const;

 private:
  void push(Kind kind, const ConnectionRecord& record, std::string reason);
  // Queues `item` or fails the watcher; mutex_ held.
  // listing: an "existing" item; ready_for_listing() already paces those, and two loops
  // passing that check at once may together queue more than one stream's byte bound, so the
  // per-stream bound does not fail them (the process-wide one still does).
  void enqueue_locked(Item item, bool listing = false);
  void fail_locked(std::string why, bool total);
  // `loop`'s part of the initial listing is over; queues the synced marker after the last.
  // mutex_ held.
  void loop_listed_locked(unsigned loop);

  const FilterSpec filter_;
  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::vector<unsigned> listing_from_;  // loops whose listing has not finished
  std::condition_variable ready_;
  std::deque<Item> queue_;
  std::uint64_t dropped_pending_ = 0;  // not yet reported
  std::uint64_t dropped_total_ = 0;
  bool woken_ = false;
  WatchBudget* const budget_;
  std::size_t held_bytes_ = 0;  // queued + taken and not yet released
  std::string failure_;
  std::function<void()> cancel_hook_;
  std::chrono::steady_clock::time_point write_since_{};  // zero: not in a write
  bool cancelled_ = false;
};

}  // namespace reactord::control
