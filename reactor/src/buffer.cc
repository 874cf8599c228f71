// Buffer core: the chain of blocks, adding, draining, copying out, moving between buffers.
// Search/readln live in buffer_search.cc, reserve/commit and fd I/O in buffer_io.cc.
//
// Chain invariants (every method keeps them):
//  - the chain is circular: tail_->next is the head (a single block is its own next); the
//    Buffer keeps only tail_ (8 bytes less than head and tail pointers);
//  - length_ is the sum of off over the chain; tail_ == nullptr iff the buffer has no block;
//  - only the tail block may be empty, and only while a reserve() is pending (or transiently
//    inside a method); draining to zero frees every block, so an empty Buffer owns nothing.
#include "reactor/buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

#include "buffer_block.h"

namespace reactor {

using detail::BufferBlock;

static_assert(sizeof(void*) != 8 || sizeof(Buffer) == 16,
              "an idle Buffer must stay at 2 words: the tail block pointer, the length (and callback bit)");

namespace {

// The length callbacks of every Buffer that has one, keyed by its address. Process-wide, not
// per thread: a Buffer may be filled on one thread and handed to another. Only a Buffer whose
// has_length_callback_ bit is set looks here. Never destroyed: a Buffer in a static object
// may die after it.
struct LengthCallbackTable {
  std::mutex mutex;
  std::unordered_map<const Buffer*, Buffer::LengthCallback> callbacks;
};

LengthCallbackTable& length_callbacks() {
  static auto* table = new LengthCallbackTable;
  return *table;
}

// Removes `buffer`'s callback and returns it, so that it is destroyed outside the lock.
Buffer::LengthCallback take_length_callback(const Buffer* buffer) {
  LengthCallbackTable& table = length_callbacks();
  std::lock_guard lock(table.mutex);
  auto node = table.callbacks.extract(buffer);
  return node.empty() ? Buffer::LengthCallback{} : std::move(node.mapped());
}

void put_length_callback(const Buffer* buffer, Buffer::LengthCallback cb) {
  LengthCallbackTable& table = length_callbacks();
  Buffer::LengthCallback old;
  std::lock_guard lock(table.mutex);
  auto [it, inserted] = table.callbacks.try_emplace(buffer);
  old.swap(it->second);
  it->second = std::move(cb);
}

// Frees a detached list of blocks (after the Buffer is consistent again, since freeing a
// reference block runs user code).
void free_list(BufferBlock* block) {
  while (block != nullptr) {
    BufferBlock* next = block->next;
    detail::free_block(block);
    block = next;
  }
}

}  // namespace

Buffer::Buffer() = default;

Buffer::~Buffer() {
  free_all();
  if (has_length_callback_) take_length_callback(this);
}

Buffer::Buffer(Buffer&& other) noexcept : tail_(std::exchange(other.tail_, nullptr)), length_(other.length_) {
  other.length_ = 0;
  if (other.has_length_callback_) {
    other.has_length_callback_ = 0;
    put_length_callback(this, take_length_callback(&other));
    has_length_callback_ = 1;
  }
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    free_all();
    tail_ = std::exchange(other.tail_, nullptr);
    length_ = other.length_;
    other.length_ = 0;
    // The callback moves along (or is cleared, if `other` had none), as the pointer did.
    LengthCallback mine = has_length_callback_ ? take_length_callback(this) : LengthCallback{};
    has_length_callback_ = 0;
    if (other.has_length_callback_) {
      other.has_length_callback_ = 0;
      put_length_callback(this, take_length_callback(&other));
      has_length_callback_ = 1;
    }
  }
  return *this;
}

void Buffer::unlink_head() {
  BufferBlock* first = tail_->next;
  assert(first != tail_ && "unlink_head on a single-block chain");
  tail_->next = first->next;
  first->next = nullptr;
}

void Buffer::free_all() {
  BufferBlock* chain = nullptr;
  if (tail_ != nullptr) {
    chain = tail_->next;
    tail_->next = nullptr;  // a detached list ends in nullptr
  }
  tail_ = nullptr;
  length_ = 0;
  free_list(chain);
}

std::size_t Buffer::contiguous_space() const { return tail_ != nullptr ? head()->off : 0; }

std::size_t Buffer::block_count() const {
  std::size_t count = 0;
  for (const BufferBlock* b = head(); b != nullptr; b = detail::chain_next(b, tail_)) ++count;
  return count;
}

std::size_t Buffer::block_memory() const {
  std::size_t bytes = 0;
  for (const BufferBlock* b = head(); b != nullptr; b = detail::chain_next(b, tail_)) {
    bytes += detail::block_memory(*b);
  }
  return bytes;
}

void Buffer::notify_length_callback(std::size_t orig, std::size_t added, std::size_t deleted) {
  if (added == 0 && deleted == 0) return;
  // Call a copy, so that the callback may replace or clear itself (set_length_callback) while
  // it runs, and runs outside the table's lock. A lambda capturing a pointer or two is stored
  // inline: the copy does not allocate.
  LengthCallback callback;
  {
    LengthCallbackTable& table = length_callbacks();
    std::lock_guard lock(table.mutex);
    auto it = table.callbacks.find(this);
    if (it == table.callbacks.end()) return;
    callback = it->second;
  }
  callback(orig, added, deleted);
}

void Buffer::set_length_callback(LengthCallback cb) {
  if (cb) {
    put_length_callback(this, std::move(cb));
    has_length_callback_ = 1;
  } else if (has_length_callback_) {
    has_length_callback_ = 0;
    take_length_callback(this);
  }
}

BufferBlock* Buffer::block_before(const BufferBlock* block) const {
  BufferBlock* prev = nullptr;
  for (BufferBlock* b = head(); b != nullptr && b != block; b = detail::chain_next(b, tail_)) prev = b;
  return prev;
}

void Buffer::drop_empty_tail() {
  if (tail_ == nullptr || tail_->off != 0) return;
  BufferBlock* empty = tail_;
  BufferBlock* prev = block_before(empty);  // rare: only after an uncommitted reserve()
  if (prev == nullptr) {
    tail_ = nullptr;
  } else {
    prev->next = empty->next;  // the head
    tail_ = prev;
  }
  detail::free_block(empty);  // owned: runs no user code
}

bool Buffer::shrink_lent_block(const BufferBlock* block) {
  BufferBlock* prev = tail_;
  BufferBlock* b = head();
  while (b != nullptr && b != block) {
    prev = b;
    b = detail::chain_next(b, tail_);
  }
  if (b == nullptr) return false;
  // A view shows its bytes (no compaction then: its memory lives until both are freed); an
  // empty block is a pending reservation's.
  if (!b->movable() || b->off == 0) return true;
  if (b->misalign != 0) {
    std::memmove(b->storage, b->data(), b->off);
    b->misalign = 0;
  }
  const bool alone = prev == b;  // the chain's only block: its own next
  const bool was_tail = tail_ == b;
  BufferBlock* fit = detail::trim_read_block(b, b->off);  // may move it (realloc): b is gone then
  if (fit != b) {
    if (alone) {
      fit->next = fit;
    } else {
      prev->next = fit;
    }
    if (was_tail) tail_ = fit;
  }
  return true;
}

void Buffer::take_block(BufferBlock* block) {
  // Copy a tiny block into free tail space instead of linking it: a memcpy of <= 256 bytes
  // is cheaper than a chain of tiny blocks (and tiny iovecs in write_to). Not reference
  // blocks: freeing one may run a release callback in the middle of this operation.
  if (!block->external() && block->off <= detail::kCopySmallBlockMax && tail_ != nullptr &&
      tail_->free_space() >= block->off) {
    std::memcpy(tail_->data_end(), block->data(), block->off);
    tail_->off += block->off;
    detail::free_block(block);
    return;
  }
  // Compaction: a block with much unused space (a 257-byte read in a 512-byte block) joining
  // a buffer that already holds data is copied into the tail — and so is any block that
  // would otherwise strand the tail's free space behind it — so a buffer that grows from many
  // reads (a client that does not read its echo) holds about its length in memory, not up to
  // twice that. Only when the buffer is not empty: the echo of a reading client (output
  // empty) links the block as before, and full blocks after a full tail are linked too.
  if (tail_ != nullptr && block->movable() && (detail::wasteful(*block) || detail::has_room(*tail_))) {
    const std::size_t in_tail = std::min(block->off, tail_->free_space());
    BufferBlock* extra = nullptr;
    if (in_tail < block->off) {
      try {
        extra = detail::new_block_of_alloc(detail::growth_alloc(tail_, block->off - in_tail, in_tail));
      } catch (const std::bad_alloc&) {
        push_back_block(block);  // no memory for the copy: keep the block as it is
        return;
      }
    }
    std::memcpy(tail_->data_end(), block->data(), in_tail);
    tail_->off += in_tail;
    if (extra != nullptr) {
      std::memcpy(extra->storage, block->data() + in_tail, block->off - in_tail);
      extra->off = block->off - in_tail;
      push_back_block(extra);
    }
    detail::free_block(block);
    return;
  }
  push_back_block(block);
}

// Strong guarantee: the new block (if one is needed) is allocated before any byte is copied,
// so a bad_alloc leaves the buffer as it was.
void Buffer::append_silently(const void* data, std::size_t len) {
  auto* src = static_cast<const std::byte*>(data);
  const std::size_t n = tail_ != nullptr ? std::min(len, tail_->free_space()) : 0;
  BufferBlock* block =
      len > n ? detail::new_block_of_alloc(detail::growth_alloc(tail_, len - n, n)) : nullptr;
  if (n > 0) {
    std::memcpy(tail_->data_end(), src, n);
    tail_->off += n;
    length_ += n;
    src += n;
    len -= n;
  }
  if (block != nullptr) {
    std::memcpy(block->storage, src, len);
    block->off = len;
    push_back_block(block);
    length_ += len;
  }
}

void Buffer::append(const void* data, std::size_t len) {
  if (len == 0) return;
  const std::size_t orig = length_;
  append_silently(data, len);
  notify(orig, len, 0);
}

void Buffer::prepend(const void* data, std::size_t len) {
  if (len == 0) return;
  if (length_ == 0) {
    free_all();  // drops a pending reservation; then prepending is appending
    append(data, len);
    return;
  }
  const std::size_t orig = length_;
  BufferBlock* first = head();  // not null: length_ > 0
  if (first->front_space() >= len) {
    first->misalign -= len;
    first->off += len;
    std::memcpy(first->data(), data, len);
  } else {
    // Data goes at the END of the new block, so further prepends fill it backwards.
    BufferBlock* block = detail::new_block(len);
    block->misalign = block->capacity - len;
    block->off = len;
    std::memcpy(block->data(), data, len);
    block->next = first;
    tail_->next = block;
  }
  length_ += len;
  notify(orig, len, 0);
}

void Buffer::add_reference(const void* data, std::size_t len, ReleaseCallback release) {
  if (len == 0) {
    if (release) release(data, len);  // nothing refers to it: release right away
    return;
  }
  auto* ref = new detail::ExternalRef{0, data, len, std::move(release)};
  BufferBlock* block;
  try {
    block = detail::new_reference_block(ref, static_cast<const std::byte*>(data), len);
  } catch (...) {
    delete ref;
    throw;
  }
  const std::size_t orig = length_;
  drop_empty_tail();
  push_back_block(block);
  length_ += len;
  notify(orig, len, 0);
}

std::size_t Buffer::drain_silently(std::size_t n) {
  if (n >= length_) {
    n = length_;
    free_all();
    return n;
  }
  // Unlink the drained blocks first, free them once the chain is consistent.
  BufferBlock* drained = nullptr;
  BufferBlock** drained_tail = &drained;
  std::size_t remaining = n;
  while (remaining > 0) {
    BufferBlock* b = head();  // never null, never the tail: n < length_
    if (b->off <= remaining) {
      remaining -= b->off;
      unlink_head();
      *drained_tail = b;
      drained_tail = &b->next;
    } else {
      b->misalign += remaining;
      b->off -= remaining;
      remaining = 0;
    }
  }
  length_ -= n;
  free_list(drained);
  return n;
}

std::size_t Buffer::drain(std::size_t n) {
  const std::size_t orig = length_;
  const std::size_t drained = drain_silently(n);
  notify(orig, 0, drained);
  return drained;
}

std::size_t Buffer::copy_out(void* out, std::size_t len) const {
  const std::size_t total = std::min(len, length_);
  auto* dst = static_cast<std::byte*>(out);
  std::size_t remaining = total;
  for (const BufferBlock* b = head(); remaining > 0; b = b->next) {  // never past the tail
    const std::size_t n = std::min(remaining, b->off);
    std::memcpy(dst, b->data(), n);
    dst += n;
    remaining -= n;
  }
  return total;
}

std::size_t Buffer::remove(void* out, std::size_t len) {
  const std::size_t n = copy_out(out, len);
  drain(n);
  return n;
}

std::string Buffer::to_string() const {
  std::string out(length_, '\0');
  copy_out(out.data(), out.size());
  return out;
}

std::vector<std::span<const std::byte>> Buffer::peek(std::optional<std::size_t> len) const {
  std::size_t remaining = len ? std::min(*len, length_) : length_;
  std::vector<std::span<const std::byte>> spans;
  for (const BufferBlock* b = head(); remaining > 0; b = b->next) {  // never past the tail
    const std::size_t n = std::min(remaining, b->off);
    if (n > 0) spans.emplace_back(b->data(), n);
    remaining -= n;
  }
  return spans;
}

std::optional<std::span<const std::byte>> Buffer::pullup(std::size_t n) {
  if (n > length_) return std::nullopt;
  if (n == 0) return std::span<const std::byte>{};
  BufferBlock* first = head();  // not null: n <= length_
  if (first->off >= n) return std::span<const std::byte>(first->data(), n);

  // Gather into the head block when it is big enough (moving its data to the front if the
  // tail end is short), else into a new block; then consume the gathered bytes behind it.
  BufferBlock* target;
  if (first->movable() && first->capacity >= n) {
    target = first;
    unlink_head();  // not the tail: the head holds fewer than n <= length_ bytes
    length_ -= target->off;
    if (target->misalign + n > target->capacity) {
      std::memmove(target->storage, target->data(), target->off);
      target->misalign = 0;
    }
  } else {
    target = detail::new_block(n);
  }
  const std::size_t need = n - target->off;
  copy_out(target->data_end(), need);
  target->off += need;
  drain_silently(need);
  if (tail_ == nullptr) {  // drained to the end: target is the whole chain
    target->next = target;
    tail_ = target;
  } else {
    target->next = tail_->next;
    tail_->next = target;
  }
  length_ += target->off;
  return std::span<const std::byte>(target->data(), n);
}

void Buffer::append_buffer(Buffer& other) {
  if (&other == this || other.length_ == 0) return;
  const std::size_t orig = length_;
  const std::size_t other_orig = other.length_;
  if (tail_ == nullptr && other.tail_->off != 0) {
    // Into a buffer with no block (an echo's output): the chain changes owner whole, which is
    // what the general path below does for an empty buffer, without its checks.
    tail_ = std::exchange(other.tail_, nullptr);
    length_ = other_orig;
    other.length_ = 0;
    other.notify(other_orig, 0, other_orig);
    notify(orig, other_orig, 0);
    return;
  }
  other.drop_empty_tail();
  drop_empty_tail();

  BufferBlock* last = std::exchange(other.tail_, nullptr);
  BufferBlock* first = last->next;
  other.length_ = 0;

  BufferBlock* rest = first != last ? first->next : nullptr;
  first->next = nullptr;
  take_block(first);  // may copy it when tiny; leaves tail_ set
  if (rest != nullptr) {
    // The rest of the chain is spliced in O(1), closing the circle on our head.
    last->next = tail_->next;
    tail_->next = rest;
    tail_ = last;
  }
  length_ += other_orig;
  other.notify(other_orig, 0, other_orig);
  notify(orig, other_orig, 0);
}

std::size_t Buffer::move_to(Buffer& dst, std::size_t n) {
  if (&dst == this || n == 0 || length_ == 0) return 0;
  if (n >= length_) {
    const std::size_t all = length_;
    dst.append_buffer(*this);
    return all;
  }
  const std::size_t orig = length_;
  const std::size_t dst_orig = dst.length_;
  dst.drop_empty_tail();

  std::size_t remaining = n;
  while (head()->off <= remaining) {  // whole blocks change owner; never the tail: n < length_
    BufferBlock* b = head();
    unlink_head();
    remaining -= b->off;
    length_ -= b->off;
    dst.length_ += b->off;
    dst.take_block(b);
  }
  if (remaining > 0) {
    // The block at the boundary: its front part is shared with dst (a view or a reference
    // block over the same bytes), or copied when short.
    BufferBlock* split = head();
    if (split->external()) {
      dst.push_back_block(detail::new_reference_block(split->ref, split->data(), remaining));
      dst.length_ += remaining;
    } else if (remaining <= detail::kCopySplitMax) {
      dst.append_silently(split->data(), remaining);
    } else {
      dst.push_back_block(detail::new_view_block(split, remaining));
      dst.length_ += remaining;
    }
    split->misalign += remaining;
    split->off -= remaining;
    length_ -= remaining;
  }
  notify(orig, 0, n);
  dst.notify(dst_orig, n, 0);
  return n;
}

}  // namespace reactor
