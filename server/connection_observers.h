// ConnectionObservers: who watches one loop's connections (the control plane's
// WatchConnections streams, the connection-duration histogram; see ConnectionObserver) — the
// list of observers, the sliced listing of existing connections to a new one, and the
// opened / state changed / closed notices.
//
// Thread rule: loop thread only (the LoopWorker owns it; Server::add_observer posts to it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "reactor/event_base.h"
#include "server/connection_record.h"

namespace reactord {

class Connection;
class ConnectionObserver;
class ConnectionTable;

class ConnectionObservers {
 public:
  // Runs a function in a later iteration of this loop (LoopWorker::post).
  using Post = std::function<void(std::function<void()>)>;

  ConnectionObservers(unsigned index, reactor::EventBase& base, const ConnectionTable& connections,
                      Post post);
  ~ConnectionObservers();
  ConnectionObservers(const ConnectionObservers&) = delete;
  ConnectionObservers& operator=(const ConnectionObservers&) = delete;

  // Connections listed to a new observer per loop iteration (see ConnectionObserver).
  static constexpr std::size_t kListingSlice = 1024;

  // The observer gets the current connections in slices (on_existing…, on_attached), one per
  // loop iteration, and every change from now on. Loop thread only.
  void add(std::uint64_t observer_id, std::shared_ptr<ConnectionObserver> observer);
  void remove(std::uint64_t observer_id);
  // Drops every observer (the loop's end). Loop thread only.
  void clear() { observers_.clear(); }

  // The notices (nothing is built when nobody watches). Loop thread only.
  void opened(const Connection& connection);
  void state_changed(const Connection& connection);
  void closed(const Connection& connection, CloseReason reason);

 private:
  // Lists the next slice (ids from..last) to observer_id; re-posts itself for the rest.
  void list_existing(std::uint64_t observer_id, std::uint64_t from, std::uint64_t last);

  const unsigned index_;
  reactor::EventBase& base_;
  const ConnectionTable& connections_;
  Post post_;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<ConnectionObserver>>> observers_;
};

}  // namespace reactord
