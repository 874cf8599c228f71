// A test seam for allocation failure in Buffers: makes the next block allocations fail as if
// malloc had returned null, so tests can prove that running out of memory costs a connection,
// not the process. Costs production one relaxed atomic load per block allocation.
//
// Thread rule: any thread (the count is process-wide and atomic).
#pragma once

#include <cstddef>

namespace reactor::fault {

// The next `count` Buffer block allocations of at least `min_bytes` (allocation size) fail:
// Buffer operations that allocate throw std::bad_alloc, read_from returns -1 with ENOMEM.
// 0 disarms. Any thread.
void fail_buffer_allocations(std::size_t count, std::size_t min_bytes = 0);
// How many armed failures are left. Any thread.
std::size_t buffer_allocation_failures_left();

}  // namespace reactor::fault
