// ListConnections' paging, gRPC thread side. Each loop selects, in id order, the connections
// of its own that match the filter from start_id on, and stops at page + 1 (page_on_loop in
// loop_snapshots.h); merge_page() joins those per-loop lists into the page. Taking page + 1
// from each loop is enough: the first page + 1 matches overall are among them, so the page is
// the same as filtering and sorting every connection, and `end` is exact (no match left past
// the page). Any thread (values only).
#pragma once

#include <cstddef>
#include <vector>

#include "server/connection_record.h"

namespace reactord::control {

struct ConnectionPage {
  std::vector<ConnectionRecord> connections;  // ascending id, at most `page`
  bool end = true;                            // no matching connection after the last one
};

// per_loop: each list ascending by id, ids unique across lists. Moves the records out.
ConnectionPage merge_page(std::vector<std::vector<ConnectionRecord>> per_loop, std::size_t page);

}  // namespace reactord::control
