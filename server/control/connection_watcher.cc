#include "connection_watcher.h"

#include "loop_snapshots.h"

namespace reactord::control {

ConnectionWatcher::ConnectionWatcher(FilterSpec filter, std::size_t queue_limit,
                                     unsigned loops_expected)
    : filter_(std::move(filter)), limit_(queue_limit), loops_expected_(loops_expected) {}

void ConnectionWatcher::push(Kind kind, const ConnectionRecord& record, std::string reason) {
  ConnectionView view = view_of(record);
  FilterSpec spec = filter_;
  // A closed connection is reported if it matched in life: ignore the state criterion.
  if (kind == Kind::kClosed) spec.state.reset();
  if (!spec.matches(view, reactor::Clock::now())) return;
  std::lock_guard lock(mutex_);
  if (queue_.size() >= limit_) {
    ++dropped_pending_;
    ++dropped_total_;
    return;
  }
  Item item{kind, std::move(view), std::move(reason), dropped_pending_,
            std::chrono::system_clock::now()};
  dropped_pending_ = 0;
  bool was_empty = queue_.empty();
  queue_.push_back(std::move(item));
  if (was_empty) ready_.notify_one();
}

void ConnectionWatcher::on_attached(unsigned loop, const std::vector<ConnectionRecord>& current) {
  for (const auto& record : current) push(Kind::kExisting, record, {});
  std::lock_guard lock(mutex_);
  if (++attached_ == loops_expected_) {
    // The synced marker is never dropped: the client needs it to know the listing ended.
    queue_.push_back(Item{Kind::kSynced, {}, {}, dropped_pending_,
                          std::chrono::system_clock::now()});
    dropped_pending_ = 0;
    ready_.notify_one();
  }
}

void ConnectionWatcher::on_opened(const ConnectionRecord& record) {
  push(Kind::kOpened, record, {});
}

void ConnectionWatcher::on_state_changed(const ConnectionRecord& record) {
  push(Kind::kStateChanged, record, {});
}

void ConnectionWatcher::on_closed(const ConnectionRecord& record) {
  push(Kind::kClosed, record, record.close_reason ? to_string(*record.close_reason) : "closed");
}

std::vector<ConnectionWatcher::Item> ConnectionWatcher::take(std::chrono::milliseconds timeout,
                                                             std::uint64_t* dropped_tail) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || woken_; });
  std::vector<Item> items(std::make_move_iterator(queue_.begin()),
                          std::make_move_iterator(queue_.end()));
  queue_.clear();
  *dropped_tail = dropped_pending_;
  dropped_pending_ = 0;
  return items;
}

void ConnectionWatcher::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  ready_.notify_all();
}

std::uint64_t ConnectionWatcher::dropped_total() const {
  std::lock_guard lock(mutex_);
  return dropped_total_;
}

}  // namespace reactord::control
