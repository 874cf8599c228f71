// CrossLoopState: the little state the loops of one Server share across threads (internal to
// reactord_core; formerly ServerShared): the connection id counter, the global connection
// count for --max-connections, the fd cap, the single acceptor's round-robin cursor, the
// listener count, the drain bookkeeping and the TLS context new handshakes use.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/tls_context.h"

namespace reactord {

class Server;
class LoopWorker;

// The exit code when a loop died (EX_SOFTWARE): a supervisor sees a failure and restarts.
inline constexpr int kExitLoopFailed = 70;

struct CrossLoopState {
  explicit CrossLoopState(Server& s) : server(s) {}

  Server& server;
  // Connection ids: one process-wide counter, so ids are unique across loops and never reused.
  std::atomic<std::uint64_t> next_connection_id{1};
  // Open connections across all loops (for --max-connections and the drain end).
  std::atomic<std::size_t> open_connections{0};
  // AcceptMode::kSingle: round-robin cursor (loop 0's thread only).
  unsigned next_loop = 0;
  // The loops, for the single acceptor's hand-off. Set before the loops run.
  std::vector<LoopWorker*> loops;
  // Data connections at most so that --fd-reserve fds stay free (set once at start; until
  // then unbounded). Any thread.
  std::atomic<std::size_t> fd_cap{SIZE_MAX};
  // Set while a drain with exit_when_done is in progress (any thread).
  std::atomic<bool> exit_when_drained{false};

  // Listening sockets open across the loops (0 while draining, or when no loop accepts);
  // --tls-listen's counts too.
  std::atomic<int> listeners{0};
  // --tls-listen: the context new handshakes use (swapped by a reload). Any thread.
  TlsContextHolder tls_context;

  // Whether new clients are welcome: serving and some loop listens. Any thread.
  bool accepting() const;
  // A loop reserved / released a connection slot. reserve fails at --max-connections.
  // Any thread.
  bool reserve_slot(std::size_t max_connections);
  void release_slot();
  // A loop died of an exception: stop everything, exit code kExitLoopFailed. Any thread.
  void loop_failed();
};

}  // namespace reactord
