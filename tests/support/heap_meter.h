// A heap meter for the memory tests: a binary that links reactord_test_heap_meter replaces the
// global operator new/delete with counting ones, which add up the bytes malloc hands out
// (usable sizes, not requested ones) and the allocations made. Link it only into a binary of
// its own: every allocation of that process is counted.
#pragma once

namespace reactord::test_support {

// Heap bytes live right now (usable sizes), any thread.
long long live_heap_bytes();
// Allocations made so far by operator new, any thread.
long long heap_allocations();

// What was allocated since construction, per item.
struct HeapMeter {
  long long bytes_before = live_heap_bytes();
  long long allocations_before = heap_allocations();
  double bytes_per(int n) const { return static_cast<double>(live_heap_bytes() - bytes_before) / n; }
  double allocations_per(int n) const {
    return static_cast<double>(heap_allocations() - allocations_before) / n;
  }
};

}  // namespace reactord::test_support
