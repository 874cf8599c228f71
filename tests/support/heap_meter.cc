// The counting operator new/delete of heap_meter.h. An OBJECT library, so the replacements are
// always linked in (a static archive's member would be pulled only by a reference).
#include "support/heap_meter.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long long> g_live_bytes{0};
std::atomic<long long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes += static_cast<long long>(malloc_usable_size(p));
  ++g_allocations;
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes -= static_cast<long long>(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace reactord::test_support {

long long live_heap_bytes() { return g_live_bytes; }
long long heap_allocations() { return g_allocations; }

}  // namespace reactord::test_support
