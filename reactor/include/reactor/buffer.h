// Buffer: libevent's evbuffer. A chain of blocks, so that moving data between buffers, or
// draining the front, never copies bytes. An empty Buffer holds no blocks (sizeof(Buffer) and
// nothing else), so idle connections cost almost nothing: 16 bytes, the chain's tail (the chain
// is circular, the tail's next is the head) and the length, whose top bit says whether a length
// callback is set. The callbacks, rarely set, live in one process-wide table keyed by the
// Buffer's address (a lookup under a mutex per length change of such a Buffer only).
//
// Thread rule: a Buffer has no lock; it belongs to whoever owns it (a BufferEvent's buffers
// belong to its loop thread). "Owner thread only" for every method.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reactor {

// evbuffer_eol_style.
enum class EolStyle {
  kAny,         // EVBUFFER_EOL_ANY: any run of '\r' and '\n'
  kCrlf,        // EVBUFFER_EOL_CRLF: "\n" or "\r\n"
  kCrlfStrict,  // EVBUFFER_EOL_CRLF_STRICT: "\r\n" only
  kLf,          // EVBUFFER_EOL_LF: "\n"
  kNul,         // EVBUFFER_EOL_NUL: "\0"
};

namespace detail {
struct BufferBlock;
struct BufferInternals;  // reactor/src/buffer_internals.h: what a BufferEvent does inside its Buffers
}  // namespace detail

class Buffer {
 public:
  // Called after the length changed: (old length, bytes added, bytes removed)
  // (evbuffer_add_cb's evbuffer_cb_info).
  using LengthCallback = std::function<void(std::size_t orig, std::size_t added, std::size_t deleted)>;
  // Releases external memory added with add_reference (evbuffer_ref_cleanup_cb).
  using ReleaseCallback = std::function<void(const void* data, std::size_t len)>;

  Buffer();
  ~Buffer();
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // evbuffer_get_length.
  std::size_t length() const { return length_; }
  bool empty() const { return length_ == 0; }
  // evbuffer_get_contiguous_space: bytes readable at the front without crossing a block.
  std::size_t contiguous_space() const;
  // Number of blocks in the chain (0 when empty) — for tests and memory accounting.
  std::size_t block_count() const;
  // Heap bytes the chain's blocks hold: each block's allocation, header included (a view
  // counts its header; the storage it shows is counted where it is owned). Walks the chain:
  // O(blocks), for inspection and tests, not for every operation.
  std::size_t block_memory() const;

  // evbuffer_add.
  void append(const void* data, std::size_t len);
  void append(std::string_view text) { append(text.data(), text.size()); }
  // evbuffer_prepend.
  void prepend(const void* data, std::size_t len);
  void prepend(std::string_view text) { prepend(text.data(), text.size()); }
  // evbuffer_add_reference: appends external memory without copying; release(data, len) runs
  // once no buffer refers to it any more (also when the bytes are moved to another Buffer).
  void add_reference(const void* data, std::size_t len, ReleaseCallback release);

  // evbuffer_drain: discards up to n bytes from the front. Returns how many.
  std::size_t drain(std::size_t n);
  // evbuffer_remove: copies up to len bytes out and drains them. Returns how many.
  std::size_t remove(void* out, std::size_t len);
  // evbuffer_copyout: like remove, without draining.
  std::size_t copy_out(void* out, std::size_t len) const;
  // The whole content as a string (copies; tests and small messages).
  std::string to_string() const;

  // evbuffer_peek: spans over the first `len` bytes (all if nullopt), without copying.
  std::vector<std::span<const std::byte>> peek(std::optional<std::size_t> len = {}) const;
  // evbuffer_pullup: makes the first n bytes contiguous (copying only if needed) and returns
  // them. n larger than length() gives nullopt.
  std::optional<std::span<const std::byte>> pullup(std::size_t n);

  // evbuffer_add_buffer: moves all of other to the end of this buffer. Blocks change owner;
  // no byte is copied, except that a block holding at most 256 bytes is copied into this
  // buffer's tail when it fits there (cheaper than linking a tiny block), and that a mostly
  // empty block (more than 1/16 of it unused) joining a non-empty buffer is compacted into
  // the tail: a buffer grown from many small reads holds about its length in memory (at most
  // one growth block more), not up to twice that.
  void append_buffer(Buffer& other);
  // evbuffer_remove_buffer: moves up to n bytes from the front of this buffer to the end of
  // dst without copying: whole blocks move (same small-block rule as append_buffer), and the
  // block split at the boundary is shared by both buffers (its memory lives until both are
  // done with it); only a split part of at most 1 KiB is copied. Returns how many.
  std::size_t move_to(Buffer& dst, std::size_t n);

  // evbuffer_search: position of the first occurrence of needle at or after `from`.
  std::optional<std::size_t> search(std::string_view needle, std::size_t from = 0) const;
  // evbuffer_readln: removes and returns the next line without its end-of-line; nullopt when
  // no complete line is buffered. A line may span blocks.
  std::optional<std::string> readln(EolStyle style);

  // evbuffer_reserve_space / evbuffer_commit_space: writable space at the end (at least n
  // bytes, in one or two spans), then commit how many bytes were written, filling the spans
  // in order. Any other modification in between cancels the reservation.
  std::vector<std::span<std::byte>> reserve(std::size_t n);
  void commit(std::size_t n);

  // evbuffer_read: reads up to max_bytes (at most 16 MiB; 0 is EINVAL) from fd with one readv
  // into the tail's free space plus one fresh block (no FIONREAD, no 4 KiB cap); the fresh
  // block is trimmed to what arrived. Returns bytes read, 0 on EOF, -1 with errno on error
  // (EAGAIN included; EINTR is retried; ENOMEM when the block cannot be allocated — nothing
  // is read then, as evbuffer_read).
  ssize_t read_from(int fd, std::size_t max_bytes = 64 * 1024);
  // evbuffer_write_atmost: writes up to max_bytes from the front with one writev (at most
  // IOV_MAX blocks; sendmsg with MSG_NOSIGNAL on sockets, so a closed peer gives EPIPE rather
  // than SIGPIPE), draining what was written. Returns bytes written (0 when there is nothing to
  // write) or -1 with errno.
  ssize_t write_to(int fd, std::optional<std::size_t> max_bytes = {});

  // evbuffer_add_cb (one callback; replaces the previous one; empty to remove). Moving a
  // Buffer moves its callback along; a Buffer handed to another thread keeps it. The callback may modify the
  // buffer, and may replace or clear itself (the change applies from the next length change).
  void set_length_callback(LengthCallback cb);

 private:
  friend struct detail::BufferInternals;
  // read_from; `lend`: a read into the thread's spare block hands the block itself over
  // (see detail::BufferInternals::read_lending).
  ssize_t read_impl(int fd, std::size_t max_bytes, bool lend);
  // If `block` is in this chain: compacts it to the size of its data. True if found.
  bool shrink_lent_block(const detail::BufferBlock* block);
  // Runs the length callback, if any (inline: a Buffer without one pays a bit test).
  void notify(std::size_t orig, std::size_t added, std::size_t deleted) {
    if (has_length_callback_) notify_length_callback(orig, added, deleted);
  }
  void notify_length_callback(std::size_t orig, std::size_t added, std::size_t deleted);
  // Chain maintenance (buffer.cc). None of these notify.
  void append_silently(const void* data, std::size_t len);
  inline void push_back_block(detail::BufferBlock* block);  // in buffer_block.h, as head()
  void take_block(detail::BufferBlock* block);              // push_back, or copy when tiny
  std::size_t drain_silently(std::size_t n);
  void drop_empty_tail();  // cancels a pending reservation
  detail::BufferBlock* block_before(const detail::BufferBlock* block) const;
  // The first block (the tail's next: the chain is circular), nullptr when empty. Inline, in
  // buffer_block.h (where a block's layout is known): every read, send and drain asks for it.
  inline detail::BufferBlock* head() const;
  // Unlinks the head block (not the tail: the chain must hold another block).
  void unlink_head();
  void free_all();

  // The last block; the chain is circular, so its next is the first block (issue #19: one
  // pointer less per Buffer, 16 bytes less per idle connection). nullptr when empty.
  detail::BufferBlock* tail_ = nullptr;
  std::size_t length_ : 63 = 0;
  // A length callback is set: it is in the process-wide table (buffer.cc), keyed by `this`
  // (issue #19: one pointer less per Buffer, 16 bytes less per idle connection).
  std::size_t has_length_callback_ : 1 = 0;
};

}  // namespace reactor
