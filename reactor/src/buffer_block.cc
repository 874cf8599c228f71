#include "buffer_block.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include "reactor/buffer_fault.h"
#include "reactor/sys_calls.h"

namespace reactor::detail {
std::atomic<std::size_t> g_allocation_failures_left{0};
}  // namespace reactor::detail

namespace reactor::fault {
namespace {
std::atomic<std::size_t> g_failure_min_bytes{0};
}  // namespace

void fail_buffer_allocations(std::size_t count, std::size_t min_bytes) {
  g_failure_min_bytes.store(min_bytes, std::memory_order_relaxed);
  detail::g_allocation_failures_left.store(count, std::memory_order_release);
}

std::size_t buffer_allocation_failures_left() {
  return detail::g_allocation_failures_left.load(std::memory_order_acquire);
}

// True if this allocation is one of the armed failures (then it is used up).
static bool injected_failure(std::size_t alloc_size) {
  std::size_t left = detail::g_allocation_failures_left.load(std::memory_order_relaxed);
  if (left == 0 || alloc_size < g_failure_min_bytes.load(std::memory_order_relaxed)) return false;
  while (left != 0 && !detail::g_allocation_failures_left.compare_exchange_weak(left, left - 1)) {}
  return left != 0;
}

}  // namespace reactor::fault

namespace reactor::detail {

namespace {
constexpr std::size_t kHeader = sizeof(BufferBlock);
constexpr std::size_t kPage = 4096;

BufferBlock* init_owned(void* mem, std::size_t alloc_size) {
  auto* block = static_cast<BufferBlock*>(mem);
  block->next = nullptr;
  block->storage = reinterpret_cast<std::byte*>(block + 1);
  block->capacity = alloc_size - kHeader;
  block->misalign = 0;
  block->off = 0;
  block->ref = nullptr;
  block->owner = nullptr;
  block->shares = 1;
  return block;
}

BufferBlock* new_header() {
  void* mem = sys().malloc(kHeader);
  if (mem == nullptr) throw std::bad_alloc();
  auto* block = static_cast<BufferBlock*>(mem);
  block->next = nullptr;
  block->misalign = 0;
  block->ref = nullptr;
  block->owner = nullptr;
  block->shares = 1;
  return block;
}

}  // namespace

// The thread's spare read block, and the one it has lent (buffer_block.h); the block it holds
// is freed at thread exit by SpareReaper, registered once per thread.
constinit thread_local SpareSlot t_spare_slot;

namespace {

struct SpareReaper {
  ~SpareReaper() {
    t_spare_slot.gone = true;
    std::free(std::exchange(t_spare_slot.block, nullptr));
  }
};
thread_local SpareReaper t_reaper;

// Arms the thread's reaper; false when the thread is exiting (the slot must stay empty).
bool slot_usable() {
  if (t_spare_slot.gone) return false;
  if (!t_spare_slot.reaper_armed) {
    static_cast<void>(&t_reaper);  // odr-use: constructs it and registers its destructor
    t_spare_slot.reaper_armed = true;
  }
  return true;
}

// A block of the spare's size whose last share is gone: the thread's spare again when the
// slot is empty (no malloc for the next read), else freed.
void keep_or_free_spare(BufferBlock* block) {
  if (t_spare_slot.lent == block) t_spare_slot.lent = nullptr;
  if (t_spare_slot.block == nullptr && slot_usable()) {
    block->next = nullptr;
    block->storage = reinterpret_cast<std::byte*>(block + 1);
    block->misalign = 0;
    block->off = 0;
    block->shares = 1;
    t_spare_slot.block = block;
    return;
  }
  std::free(block);
}

// Drops one share of an owned block's allocation; frees it with the last one (a block of the
// spare's size may become the thread's spare instead).
void release_owned(BufferBlock* owned) {
  if (--owned->shares != 0) return;
  if (owned->capacity == kSpareCapacity) {
    keep_or_free_spare(owned);
    return;
  }
  std::free(owned);
}
}  // namespace

BufferBlock* make_thread_spare() {
  if (!slot_usable()) return nullptr;
  const std::size_t alloc = read_alloc(kSpareCapacity);
  void* mem = sys().malloc(alloc);
  if (mem == nullptr) return nullptr;
  t_spare_slot.block = init_owned(mem, alloc);
  return t_spare_slot.block;
}

std::size_t round_up_pow2(std::size_t n) { return std::bit_ceil(n); }

std::size_t block_alloc_size(std::size_t min_capacity) {
  if (min_capacity > SIZE_MAX - kHeader - kPage) throw std::bad_alloc();
  const std::size_t need = min_capacity + kHeader;
  if (need <= kMinBlockAlloc) return kMinBlockAlloc;
  if (need <= kMaxPow2Alloc) return round_up_pow2(need);
  return (need + kPage - 1) / kPage * kPage;
}

std::size_t growth_alloc(const BufferBlock* tail, std::size_t need, std::size_t tail_extra) {
  std::size_t alloc = block_alloc_size(need);
  if (tail != nullptr && tail->owned()) {
    const std::size_t used = kHeader + tail->misalign + tail->off + tail_extra;
    alloc = std::max(alloc, std::min(2 * round_up_pow2(used), kMaxGrowthAlloc));
  }
  return alloc;
}

std::size_t read_alloc(std::size_t want) {
  // Exactly `want` bytes of storage: rounding the allocation up to a power of two would double
  // a 64 KiB read block (and cross malloc's mmap threshold); rounding the storage down would
  // split a 4 KiB message over two reads. The block is trimmed to a power of two after the read.
  if (want > SIZE_MAX - kHeader) throw std::bad_alloc();
  return std::max(kMinBlockAlloc, want + kHeader);
}

bool injected_allocation_failure(std::size_t alloc_size) { return fault::injected_failure(alloc_size); }

BufferBlock* init_owned_block(void* mem, std::size_t alloc_size) { return init_owned(mem, alloc_size); }

BufferBlock* new_block_of_alloc(std::size_t alloc_size) {
  void* mem = fault::injected_failure(alloc_size) ? nullptr : sys().malloc(alloc_size);
  if (mem == nullptr) throw std::bad_alloc();
  return init_owned(mem, alloc_size);
}

BufferBlock* new_block(std::size_t min_capacity) {
  return new_block_of_alloc(block_alloc_size(min_capacity));
}

BufferBlock* shrink_block(BufferBlock* block, std::size_t alloc_size) {
  if (alloc_size < kHeader + block->misalign + block->off || alloc_size >= kHeader + block->capacity) {
    return block;
  }
  // glibc shrinks heap chunks in place; should realloc move it anyway, the storage pointer
  // (which points into the block itself) is rebased below. The block is not linked yet, so
  // nobody else holds its address.
  void* mem = std::realloc(block, alloc_size);
  if (mem == nullptr) return block;  // keeping the bigger block is fine
  auto* moved = static_cast<BufferBlock*>(mem);
  moved->storage = reinterpret_cast<std::byte*>(moved + 1);
  moved->capacity = alloc_size - kHeader;
  return moved;
}

BufferBlock* trim_read_block(BufferBlock* block, std::size_t used) {
  block->off = used;
  const std::size_t fit = block_alloc_size(used);
  return 2 * fit <= kHeader + block->capacity ? shrink_block(block, fit) : block;
}

BufferBlock* new_view_block(BufferBlock* block, std::size_t len) {
  BufferBlock* view = new_header();
  BufferBlock* owner = block->owner != nullptr ? block->owner : block;
  view->storage = block->data();
  view->capacity = len;
  view->off = len;
  view->owner = owner;
  ++owner->shares;
  return view;
}

BufferBlock* new_reference_block(ExternalRef* ref, const std::byte* data, std::size_t len) {
  BufferBlock* block = new_header();
  // The bytes are never written through a reference block (free_space() is 0).
  block->storage = const_cast<std::byte*>(data);
  block->capacity = len;
  block->off = len;
  block->ref = ref;
  ++ref->refs;
  return block;
}

void free_block(BufferBlock* block) {
  if (block->owner != nullptr) {
    BufferBlock* owner = block->owner;
    std::free(block);
    release_owned(owner);
    return;
  }
  ExternalRef* ref = block->ref;
  if (ref == nullptr) {
    release_owned(block);
    return;
  }
  std::free(block);
  if (--ref->refs == 0) {
    // Run the release last, after the block is gone, so a callback that touches buffers
    // sees consistent state.
    Buffer::ReleaseCallback release = std::move(ref->release);
    const void* data = ref->data;
    const std::size_t len = ref->len;
    delete ref;
    if (release) release(data, len);
  }
}

}  // namespace reactor::detail
