#include "watch_budget.h"

namespace reactord::control {

WatchBudget::WatchBudget(WatchLimits limits, WatchCounters* counters)
    : limits_(limits), counters_(counters ? counters : &own_) {}

bool WatchBudget::admit() {
  std::size_t open = open_.load(std::memory_order_relaxed);
  do {
    if (open >= limits_.max_watchers) {
      counters_->refused.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!open_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
  counters_->open.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void WatchBudget::leave() {
  open_.fetch_sub(1, std::memory_order_relaxed);
  counters_->open.fetch_sub(1, std::memory_order_relaxed);
}

bool WatchBudget::take(std::size_t bytes) {
  std::size_t now = bytes_.load(std::memory_order_relaxed);
  do {
    if (now + bytes > limits_.total_bytes) return false;
  } while (!bytes_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  counters_->queued_bytes.fetch_add(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
  return true;
}

void WatchBudget::give(std::size_t bytes) {
  bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  counters_->queued_bytes.fetch_sub(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
}

}  // namespace reactord::control
