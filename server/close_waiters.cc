#include "server/close_waiters.h"

#include <utility>

namespace reactord {

void CloseWaiters::add(const std::vector<std::uint64_t>& open_ids, Done done) {
  if (open_ids.empty()) {
    done();
    return;
  }
  waiters_.push_back({std::unordered_set<std::uint64_t>(open_ids.begin(), open_ids.end()), std::move(done)});
}

void CloseWaiters::on_closed(std::uint64_t id) {
  if (waiters_.empty()) return;
  // Those done are taken out before any callback runs: a callback may add a waiter.
  std::vector<Done> ready;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->ids.erase(id) != 0 && it->ids.empty()) {
      ready.push_back(std::move(it->done));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : ready) done();
}

}  // namespace reactord
