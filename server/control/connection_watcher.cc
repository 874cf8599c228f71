#include "connection_watcher.h"

#include <algorithm>

#include "loop_snapshots.h"
#include "server/loop_worker.h"

namespace reactord::control {

namespace {

// What one queued item takes: the item, its reason text and the deque's share.
std::size_t bytes_of(const ConnectionWatcher::Item& item) {
  return sizeof(ConnectionWatcher::Item) + item.reason.capacity() + 16;
}

}  // namespace

ConnectionWatcher::ConnectionWatcher(FilterSpec filter, std::size_t queue_limit,
                                     std::vector<unsigned> loops_expected, WatchBudget* budget)
    : filter_(std::move(filter)),
      limit_(queue_limit),
      listing_from_(std::move(loops_expected)),
      budget_(budget) {
  if (listing_from_.empty()) {  // no loop running: nothing to list
    std::lock_guard lock(mutex_);
    enqueue_locked(Item{Kind::kSynced, {}, {}, 0, std::chrono::system_clock::now()});
  }
}

ConnectionWatcher::~ConnectionWatcher() {
  if (budget_ && held_bytes_ > 0) budget_->give(held_bytes_);
}

void ConnectionWatcher::push(Kind kind, const ConnectionRecord& record, std::string reason) {
  // A closed connection is reported if it matched in life: ignore the state criterion.
  if (!filter_.matches(record, std::chrono::steady_clock::now(), kind == Kind::kClosed)) return;
  std::lock_guard lock(mutex_);
  if (!failure_.empty()) return;
  // The listing is paced by ready_for_listing(), per loop: two loops may each queue a slice.
  if (kind != Kind::kExisting && queue_.size() >= limit_) {
    ++dropped_pending_;
    ++dropped_total_;
    return;
  }
  enqueue_locked(Item{kind, record, std::move(reason), dropped_pending_, std::chrono::system_clock::now()},
                 kind == Kind::kExisting);
}

void ConnectionWatcher::enqueue_locked(Item item, bool listing) {
  item.bytes = bytes_of(item);
  if (budget_) {
    const WatchLimits& limits = budget_->limits();
    if (!listing && held_bytes_ + item.bytes > limits.buffer_bytes) {
      fail_locked("the watcher fell behind: " + std::to_string(held_bytes_) +
                      " bytes queued for it (--watch-buffer-bytes " + std::to_string(limits.buffer_bytes) +
                      ")",
                  false);
      return;
    }
    if (!budget_->take(item.bytes)) {
      fail_locked("the watchers together fell behind: " + std::to_string(budget_->queued_bytes()) +
                      " bytes queued for all of them (--watch-total-bytes " +
                      std::to_string(limits.total_bytes) + ")",
                  true);
      return;
    }
    held_bytes_ += item.bytes;
  }
  dropped_pending_ = 0;
  bool was_empty = queue_.empty();
  queue_.push_back(std::move(item));
  if (was_empty) ready_.notify_one();
}

void ConnectionWatcher::fail_locked(std::string why, bool total) {
  failure_ = std::move(why);
  // Free the memory now: the handler may be stuck writing to a client that does not read.
  std::size_t queued = 0;
  for (const auto& item : queue_) queued += item.bytes;
  std::deque<Item>().swap(queue_);
  held_bytes_ -= queued;
  budget_->give(queued);
  auto& counters = budget_->counters();
  (total ? counters.dropped_total : counters.dropped_slow).fetch_add(1, std::memory_order_relaxed);
  ready_.notify_all();
}

void ConnectionWatcher::on_existing(unsigned loop, const std::vector<ConnectionRecord>& some) {
  (void)loop;
  for (const auto& record : some) push(Kind::kExisting, record, {});
}

void ConnectionWatcher::on_attached(unsigned loop, const std::vector<ConnectionRecord>& current) {
  for (const auto& record : current) push(Kind::kExisting, record, {});
  std::lock_guard lock(mutex_);
  loop_listed_locked(loop);
}

void ConnectionWatcher::on_loop_ended(unsigned loop) {
  std::lock_guard lock(mutex_);
  loop_listed_locked(loop);
}

bool ConnectionWatcher::listing() const {
  std::lock_guard lock(mutex_);
  return !listing_from_.empty();
}

void ConnectionWatcher::loop_listed_locked(unsigned loop) {
  auto it = std::find(listing_from_.begin(), listing_from_.end(), loop);
  if (it == listing_from_.end()) return;  // attached already, or not expected
  listing_from_.erase(it);
  if (listing_from_.empty() && failure_.empty()) {
    // The synced marker is never dropped for the queue limit (the client needs it to know the
    // listing ended), only with the watcher at a byte bound.
    Item item{Kind::kSynced, {}, {}, dropped_pending_, std::chrono::system_clock::now()};
    enqueue_locked(std::move(item));
  }
}

bool ConnectionWatcher::ready_for_listing() const {
  std::lock_guard lock(mutex_);
  if (!failure_.empty()) return true;  // nothing more is queued: let the listing end
  if (queue_.size() + LoopWorker::kListingSlice > limit_ && !queue_.empty()) return false;
  if (!budget_ || held_bytes_ == 0) return true;
  const std::size_t slice_bytes = LoopWorker::kListingSlice * (sizeof(Item) + 16);
  return held_bytes_ + slice_bytes <= budget_->limits().buffer_bytes;
}

void ConnectionWatcher::on_opened(const ConnectionRecord& record) { push(Kind::kOpened, record, {}); }

void ConnectionWatcher::on_state_changed(const ConnectionRecord& record) {
  push(Kind::kStateChanged, record, {});
}

void ConnectionWatcher::on_closed(const ConnectionRecord& record) {
  push(Kind::kClosed, record, record.close_reason ? to_string(*record.close_reason) : "closed");
}

std::vector<ConnectionWatcher::Item> ConnectionWatcher::take(std::chrono::milliseconds timeout,
                                                             std::uint64_t* dropped_tail) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || woken_ || !failure_.empty(); });
  std::vector<Item> items(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  *dropped_tail = dropped_pending_;
  dropped_pending_ = 0;
  return items;
}

void ConnectionWatcher::release(std::size_t bytes) {
  if (!budget_ || bytes == 0) return;
  std::lock_guard lock(mutex_);
  bytes = std::min(bytes, held_bytes_);
  held_bytes_ -= bytes;
  budget_->give(bytes);
}

void ConnectionWatcher::set_cancel_hook(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  cancel_hook_ = std::move(hook);
}

void ConnectionWatcher::writing(bool in_write) {
  std::lock_guard lock(mutex_);
  write_since_ = in_write ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
}

void ConnectionWatcher::cancel_if_stuck(std::chrono::steady_clock::duration grace) {
  std::function<void()> hook;
  {
    std::lock_guard lock(mutex_);
    if (failure_.empty() || cancelled_ || !cancel_hook_) return;
    if (write_since_ == std::chrono::steady_clock::time_point{}) return;
    if (std::chrono::steady_clock::now() - write_since_ < grace) return;
    cancelled_ = true;
    hook = cancel_hook_;
  }
  hook();
}

std::string ConnectionWatcher::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
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
