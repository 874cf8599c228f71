// File descriptor limits: raise the soft RLIMIT_NOFILE to the hard one at start (as HAProxy and
// nginx do), and work out how many data connections fit while a reserve of fds stays free for
// the control plane (gRPC's accept loop) and the metrics server. When fds run out, the data
// clients are refused first — and counted — instead of gRPC failing accept4 with EMFILE and
// leaving its listen queue full long after the flood.
//
// Thread rule: any thread (they read or set process-wide state; call the raise once, at start).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace reactord {

struct NofileLimit {
  std::uint64_t soft_before = 0;
  std::uint64_t soft = 0;  // after the raise (unlimited: UINT64_MAX)
  std::uint64_t hard = 0;
  bool raised() const { return soft != soft_before; }
};

// Raises the soft RLIMIT_NOFILE to the hard limit; returns what it was and is.
NofileLimit raise_nofile_limit();
// The current soft RLIMIT_NOFILE (UINT64_MAX when unlimited).
std::uint64_t nofile_soft_limit();
// Descriptors open in this process now (entries of /proc/self/fd).
std::size_t count_open_fds();

// What the data connections may use: the limit, less what is in use at start, less the
// reserve — which is at most half of what is left, so a tiny limit still serves some clients.
struct FdBudget {
  std::size_t reserve = 0;
  std::size_t data_cap = std::numeric_limits<std::size_t>::max();  // data connections at most
};
FdBudget fd_budget(std::uint64_t soft_limit, std::size_t in_use, std::size_t wanted_reserve);

}  // namespace reactord
