// CloseWaiters: callbacks waiting for some connections of one loop to be gone — how a control
// call that closes connections and waits for them (CloseConnections{wait}) hears that they are,
// instead of asking the loop again and again. The loop tells it of every close; with nobody
// waiting that costs one emptiness check.
//
// Thread rule: loop thread only (the loop's LoopWorker owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

namespace reactord {

class CloseWaiters {
 public:
  using Done = std::function<void()>;

  // Calls done() once none of `open_ids` (the ids still open on this loop) is left; at once
  // when the list is empty. Loop thread only.
  void add(const std::vector<std::uint64_t>& open_ids, Done done);
  // The connection `id` is gone: runs the callbacks whose last id it was. Loop thread only.
  void on_closed(std::uint64_t id);
  // How many callbacks are waiting. Loop thread only.
  std::size_t size() const { return waiters_.size(); }

 private:
  struct Waiter {
    std::unordered_set<std::uint64_t> ids;
    Done done;
  };
  std::vector<Waiter> waiters_;  // a few at a time: one per waiting control call
};

}  // namespace reactord
