#include "server/connection_observers.h"

#include <algorithm>
#include <optional>

#include "server/connection.h"
#include "server/connection_observer.h"
#include "server/connection_table.h"

namespace reactord {

ConnectionObservers::ConnectionObservers(unsigned index, reactor::EventBase& base,
                                         const ConnectionTable& connections, Post post)
    : index_(index), base_(base), connections_(connections), post_(std::move(post)) {}

ConnectionObservers::~ConnectionObservers() = default;

void ConnectionObservers::opened(const Connection& connection) {
  if (observers_.empty()) return;
  const ConnectionRecord record = connection.record();
  for (auto& [observer_id, observer] : observers_) observer->on_opened(record);
}

void ConnectionObservers::state_changed(const Connection& connection) {
  if (observers_.empty()) return;
  const ConnectionRecord record = connection.record();
  for (auto& [observer_id, observer] : observers_) observer->on_state_changed(record);
}

void ConnectionObservers::closed(const Connection& connection, CloseReason reason) {
  if (observers_.empty()) return;
  ConnectionRecord record = connection.record();
  record.mark_closed(reason);
  for (auto& [observer_id, observer] : observers_) observer->on_closed(record);
}

void ConnectionObservers::add(std::uint64_t observer_id, std::shared_ptr<ConnectionObserver> observer) {
  // Connections opened from now on are reported as opened; the listing stops at today's last.
  const std::uint64_t last = connections_.registry().last_id();
  observers_.emplace_back(observer_id, std::move(observer));
  list_existing(observer_id, 0, last);
}

void ConnectionObservers::remove(std::uint64_t observer_id) {
  std::erase_if(observers_, [&](const auto& entry) { return entry.first == observer_id; });
}

void ConnectionObservers::list_existing(std::uint64_t observer_id, std::uint64_t from, std::uint64_t last) {
  auto it = std::find_if(observers_.begin(), observers_.end(),
                         [&](const auto& entry) { return entry.first == observer_id; });
  if (it == observers_.end()) return;  // removed meanwhile
  if (!it->second->ready_for_listing()) {
    base_.once(-1, reactor::EventFlags{}, std::chrono::milliseconds(10),
               [this, observer_id, from, last](int, reactor::EventFlags) {
                 list_existing(observer_id, from, last);
               });
    return;
  }
  std::vector<ConnectionRecord> slice;
  std::optional<std::uint64_t> next;
  connections_.registry().for_each_from(from, [&](const Connection& c) {
    if (c.id() > last) return false;
    if (slice.size() == kListingSlice) {
      next = c.id();
      return false;
    }
    slice.push_back(c.record());
    return true;
  });
  if (!next) {
    it->second->on_attached(index_, slice);
    return;
  }
  it->second->on_existing(index_, slice);
  // The rest in a later iteration: post() from the loop's own thread runs after this one's
  // I/O callbacks.
  post_([this, observer_id, from = *next, last] { list_existing(observer_id, from, last); });
}

}  // namespace reactord
