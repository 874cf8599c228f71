// ConnectionSideTables: what few connections of one loop need besides their object, kept by
// connection id so that an idle plaintext Connection does not carry it (issue #19): the TLS
// session of a --tls-listen client, and a ConnectionSideState (the bytes acknowledged at an
// idle check that found a kernel backlog; the scope id of a link-local IPv6 peer).
//
// Thread rule: loop thread only (one per loop, in its ConnectionContext).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "reactor/tls_buffer_event.h"

namespace reactord {

struct ConnectionSideState {
  std::uint32_t acked_at_idle_check = 0;  // low 32 bits
  std::uint32_t peer_scope_id = 0;
};

class ConnectionSideTables {
 public:
  // The TLS session of connection `id`, nullptr if it has none. Loop thread only.
  reactor::TlsBufferEvent* tls_session(std::uint64_t id) const {
    auto it = tls_sessions_.find(id);
    return it != tls_sessions_.end() ? it->second.get() : nullptr;
  }
  void attach_tls(std::uint64_t id, std::unique_ptr<reactor::TlsBufferEvent> session) {
    tls_sessions_[id] = std::move(session);
  }
  void drop_tls(std::uint64_t id) { tls_sessions_.erase(id); }
  // Connection `id`'s side state, created on first use; dropped by the Connection's
  // destructor. Loop thread only.
  ConnectionSideState& side_state(std::uint64_t id) { return side_states_[id]; }
  void drop_side_state(std::uint64_t id) { side_states_.erase(id); }
  // The loop's end: what is left (each Connection drops its own; none should be). Loop thread
  // only.
  void clear() {
    tls_sessions_.clear();
    side_states_.clear();
  }

 private:
  std::unordered_map<std::uint64_t, std::unique_ptr<reactor::TlsBufferEvent>> tls_sessions_;
  std::unordered_map<std::uint64_t, ConnectionSideState> side_states_;
};

}  // namespace reactord
