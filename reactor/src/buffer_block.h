// BufferBlock: one link of a Buffer's chain (libevent's evbuffer_chain).
//
// Three kinds of block:
//  - owned: ONE malloc, this header followed by its storage, so a block costs one allocation
//    and one free. Only owned blocks are ever written to.
//  - view: a header (its own small malloc) showing part of an owned block's storage. move_to
//    makes one when it splits a block and the part that moves is large: the bytes are shared,
//    not copied. The owned block's allocation lives until it and all its views are freed
//    (`shares` counts them).
//  - reference (add_reference): a header whose storage is external memory shared through a
//    counted ExternalRef; its release callback runs when the last block referring to it is
//    freed, whichever Buffer that block lives in by then.
//
// Layout of the bytes in a block:  [ misalign (drained) | off (data) | free space ]
// Views and reference blocks have neither free space nor front space. A shared owned block
// keeps its free space (views only ever show bytes before its data), but loses its front
// space and may not be compacted (pullup), since that would overwrite bytes a view shows.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

#include "reactor/buffer.h"

namespace reactor::detail {

// External memory shared by one or more reference blocks (a block split by move_to shares it).
struct ExternalRef {
  std::size_t refs;
  const void* data;
  std::size_t len;
  Buffer::ReleaseCallback release;
};

struct BufferBlock {
  // The next block of the chain. A Buffer's chain is circular (the tail's next is the head);
  // a detached list (being freed) ends in nullptr. Walk a chain with chain_next.
  BufferBlock* next;
  std::byte* storage;    // owned: right after this header; view/reference: elsewhere
  std::size_t capacity;  // bytes of storage
  std::size_t misalign;  // bytes already drained from the front of storage
  std::size_t off;       // bytes of data after misalign
  ExternalRef* ref;      // reference blocks only
  BufferBlock* owner;    // view blocks only: the owned block whose storage this shows
  std::size_t shares;    // owned blocks: 1 + number of views of the storage

  std::byte* data() const { return storage + misalign; }
  std::byte* data_end() const { return storage + misalign + off; }
  bool owned() const { return ref == nullptr && owner == nullptr; }
  bool external() const { return ref != nullptr; }
  std::size_t free_space() const { return owned() ? capacity - misalign - off : 0; }
  // Bytes that fit in front of the data (prepend without a new block).
  std::size_t front_space() const { return owned() && shares == 1 ? misalign : 0; }
  // May the bytes be moved inside storage (pullup's compaction)?
  bool movable() const { return owned() && shares == 1; }
};

// The block after b in a circular chain whose last block is tail; nullptr after the tail.
inline BufferBlock* chain_next(const BufferBlock* b, const BufferBlock* tail) {
  return b == tail ? nullptr : b->next;
}

// Block sizing. Allocations are powers of two from kMinBlockAlloc up to kMaxPow2Alloc
// (amortised growth, friendly to malloc's size classes); beyond that they are rounded to pages.
inline constexpr std::size_t kMinBlockAlloc = 512;
inline constexpr std::size_t kMaxPow2Alloc = 1024 * 1024;
// Consecutive appends double the block size up to this, so a growing message needs
// O(log n) blocks while a small one stays in 512 bytes.
inline constexpr std::size_t kMaxGrowthAlloc = 64 * 1024;
// Blocks with at most this many bytes are copied rather than relinked when moved into a buffer
// whose tail has room: cheaper than keeping a chain of tiny blocks (and tiny writev entries).
inline constexpr std::size_t kCopySmallBlockMax = 256;
// move_to copies the moving part of a split block when it is at most this long (a memcpy is
// cheap, and a small view would pin a big block); larger parts become views.
inline constexpr std::size_t kCopySplitMax = 1024;

// Total allocation (header included) for a block able to hold min_capacity bytes.
std::size_t block_alloc_size(std::size_t min_capacity);

// Allocation size for a block that takes `need` bytes appended after `tail` (may be null): at
// least `need`, and twice the tail's used size (capped at kMaxGrowthAlloc), so that many small
// appends end up in O(log n) blocks while one small message stays in a 512-byte block.
// `tail_extra`: bytes about to be copied into the tail first (counted as used).
std::size_t growth_alloc(const BufferBlock* tail, std::size_t need, std::size_t tail_extra = 0);
// Allocation size for a block that readv fills with up to `want` bytes: room for exactly
// `want` (at least kMinBlockAlloc in all).
std::size_t read_alloc(std::size_t want);

// A new owned, empty block with at least min_capacity bytes of storage. Throws bad_alloc.
BufferBlock* new_block(std::size_t min_capacity);
// The fault seam (reactor/buffer_fault.h) for an allocation of alloc_size that is not made
// through new_block_of_alloc: true = fail it (the armed count is used up).
bool injected_allocation_failure(std::size_t alloc_size);
// Whether any failure is armed (fault::fail_buffer_allocations): one relaxed load, inline, so
// that a read pays nothing more for the seam while none is (issue #19).
extern std::atomic<std::size_t> g_allocation_failures_left;
inline bool allocation_failures_armed() {
  return g_allocation_failures_left.load(std::memory_order_relaxed) != 0;
}
// Makes mem (alloc_size bytes from malloc) an owned, empty block.
BufferBlock* init_owned_block(void* mem, std::size_t alloc_size);
// A new owned, empty block whose allocation (header included) is exactly alloc_size bytes.
BufferBlock* new_block_of_alloc(std::size_t alloc_size);
// Shrinks an owned block that is not linked in any chain so that its allocation is about
// alloc_size bytes; may move it (realloc). Returns the block's (possibly new) address.
BufferBlock* shrink_block(BufferBlock* block, std::size_t alloc_size);
// A block a read has just filled with `used` bytes (off was 0), before it joins a buffer:
// off = used, and shrunk to fit when at least half of its allocation would stay unused (a
// short read into a large block). Returns the block's (possibly new) address.
BufferBlock* trim_read_block(BufferBlock* block, std::size_t used);
// A view of the first len bytes of block (owned or view, not reference); shares the storage.
BufferBlock* new_view_block(BufferBlock* block, std::size_t len);
// A reference block over [data, data+len) of ref; takes one count on ref.
BufferBlock* new_reference_block(ExternalRef* ref, const std::byte* data, std::size_t len);
// Frees a block; a shared owned block's allocation stays until its last view is freed; for a
// reference block drops its count and runs the release callback at zero.
void free_block(BufferBlock* block);

// Heap bytes a block holds: an owned block its whole allocation, a view or reference block
// its header.
inline std::size_t block_memory(const BufferBlock& block) {
  return sizeof(BufferBlock) + (block.owned() ? block.capacity : 0);
}

// A block worth compacting when it joins a non-empty buffer: owned, not shared, and more than
// 1/16 of its storage unused (a block filled by a full read is not).
inline bool wasteful(const BufferBlock& block) {
  return block.movable() && block.capacity - block.off > block.capacity / 16;
}

// A tail whose free space would be stranded (more than 1/16 of it) if a block were linked
// after it.
inline bool has_room(const BufferBlock& block) {
  return block.movable() && block.free_space() > block.capacity / 16;
}

// The thread's spare read block (issue #19). Buffer::read_from reads into it (one read, one
// span), and a BufferEvent's read hands it over whole to its input instead of copying the
// bytes out (lending, see BufferInternals); when the block is freed — the echo sent it — it
// comes back as the thread's spare instead of going to malloc: the next read allocates,
// copies and frees nothing. Any owned block of exactly kSpareCapacity bytes freed on a thread
// whose slot is empty becomes its spare (free_block), so the slot never holds more than one.
inline constexpr std::size_t kSpareCapacity = 64 * 1024;
// The thread's slot: its spare block, and the one it has lent. Constant-initialised and
// trivially destructible, so the accessors below are inline loads of a thread-local (no TLS
// wrapper call: they run several times per echoed message); the block it holds is freed at
// thread exit (buffer_block.cc).
struct SpareSlot {
  BufferBlock* block = nullptr;
  const BufferBlock* lent = nullptr;
  bool reaper_armed = false;  // the thread-exit reaper is registered for this thread
  bool gone = false;          // the thread is exiting: keep nothing more
};
extern constinit thread_local SpareSlot t_spare_slot;
// Makes the thread's spare (the slot is empty); nullptr when it cannot be made.
BufferBlock* make_thread_spare();
// The thread's spare, kept in its slot (made on first use). nullptr when it cannot be made
// (no memory, or the thread is exiting).
inline BufferBlock* thread_spare() {
  return t_spare_slot.block != nullptr ? t_spare_slot.block : make_thread_spare();
}
// Removes the thread's spare from its slot (the caller owns it now); nullptr if none.
inline BufferBlock* take_thread_spare() { return std::exchange(t_spare_slot.block, nullptr); }
// The spare block this thread has lent to a buffer and not got back yet (nullptr: none).
// Only compared, never dereferenced: the block may have been freed on another thread.
inline const BufferBlock* lent_spare() { return t_spare_slot.lent; }
inline void set_lent_spare(const BufferBlock* block) { t_spare_slot.lent = block; }

// Smallest power of two >= n (n >= 1).
std::size_t round_up_pow2(std::size_t n);

}  // namespace reactor::detail

namespace reactor {

inline detail::BufferBlock* Buffer::head() const { return tail_ != nullptr ? tail_->next : nullptr; }

// Inline, as head() is: every read that lends the spare block links it here (issue #19).
inline void Buffer::push_back_block(detail::BufferBlock* block) {
  if (tail_ != nullptr) {
    block->next = tail_->next;  // the head
    tail_->next = block;
  } else {
    block->next = block;
  }
  tail_ = block;
}

}  // namespace reactor
