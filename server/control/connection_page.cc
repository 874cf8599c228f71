#include "connection_page.h"

namespace reactord::control {

ConnectionPage merge_page(std::vector<std::vector<ConnectionRecord>> per_loop, std::size_t page) {
  ConnectionPage out;
  out.connections.reserve(page);
  // A k-way merge by linear scan of the heads: k is the loop count (a handful), the output at
  // most 1000, so a heap would only add code.
  std::vector<std::size_t> next(per_loop.size(), 0);
  for (;;) {
    std::size_t best = per_loop.size();
    for (std::size_t k = 0; k < per_loop.size(); ++k) {
      if (next[k] == per_loop[k].size()) continue;
      if (best == per_loop.size() || per_loop[k][next[k]].id < per_loop[best][next[best]].id) {
        best = k;
      }
    }
    if (best == per_loop.size()) return out;  // every list used up: end stays true
    if (out.connections.size() == page) {
      out.end = false;  // a match beyond the page
      return out;
    }
    out.connections.push_back(std::move(per_loop[best][next[best]++]));
  }
}

}  // namespace reactord::control
