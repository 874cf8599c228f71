// Buffer's zero-copy paths: reserve/commit (evbuffer_reserve_space/commit_space), read_from
// (evbuffer_read) and write_to (evbuffer_write_atmost).
//
// read_from does ONE readv into the tail's free space plus fresh space for the rest of
// max_bytes (a plain read() when there is only one of the two). libevent 2.1 first asks
// FIONREAD (one more syscall per read) and caps a read at 4 KiB; we do neither.
// The fresh space is the thread's spare read block (up to 64 KiB, kept from read to read): a
// small read is copied out of it into a block of its size (malloc's fast bins), a large one
// takes the spare block itself (trimmed to a power of two) and the next read makes a new spare.
// A BufferEvent's read lends the spare whole instead (buffer_internals.h): an echo sends it and
// frees it, and it is the thread's spare again — no allocation, copy or free per message.
// Before, every read allocated a 64 KiB block and trimmed it with realloc: at 64-byte echoes,
// that malloc/realloc pair was the largest user-space cost of a message (issue #19).
#include <limits.h>  // IOV_MAX
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "buffer_block.h"
#include "reactor/buffer.h"
#include "reactor/sys_calls.h"

namespace reactor {

using detail::BufferBlock;

namespace {
// writev takes at most IOV_MAX entries; 1024 on Linux.
constexpr std::size_t kMaxIov = std::min<std::size_t>(IOV_MAX, 1024);
constexpr std::size_t kMaxReadBytes = 16 * 1024 * 1024;

// writev, retried on EINTR: a pipe or a file (send says ENOTSOCK).
ssize_t writev_all(int fd, const iovec* iov, std::size_t count) {
  ssize_t n;
  do {
    n = sys().writev(fd, iov, static_cast<int>(count));
  } while (n < 0 && errno == EINTR);
  return n;
}

// One write over a socket without SIGPIPE (a peer that went away is EPIPE, not a dead
// process); plain writev for pipes and files. One span (the common case: an echo, a reply)
// goes through send(), which spares the kernel importing and checking an iovec array: on a
// 64-byte echo that is a few percent of the server's CPU.
ssize_t write_vector(int fd, const iovec* iov, std::size_t count) {
  ssize_t n;
  if (count == 1) {
    do {
      n = sys().send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
  } else {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    do {
      n = sys().sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0 && errno == ENOTSOCK) n = writev_all(fd, iov, count);
  return n;
}

// One span (an echo's read block, a reply) through send(), inline in write_to: the call to
// write_vector, its loops and its second errno test were ~40 instructions of every echoed
// message (issue #19). An interrupted call or a non-socket fd (-1 with EINTR or ENOTSOCK) goes
// on as write_vector did: send again, writev for a pipe (the same calls as before).
ssize_t send_span(int fd, const iovec& one) {
  const ssize_t n = sys().send(fd, one.iov_base, one.iov_len, MSG_NOSIGNAL);
  if (n >= 0) [[likely]]
    return n;
  if (errno == EINTR) return write_vector(fd, &one, 1);
  return errno == ENOTSOCK ? writev_all(fd, &one, 1) : n;
}

// One writev of up to `limit` bytes of the chain head..tail (at most kMaxIov blocks). Never
// inline: its 16 KiB iovec array would make write_to's frame 16 KiB deep on every send, the
// one-block path (an echo) included, whose callees then run on stack lines 16 KiB away from
// the loop's.
[[gnu::noinline]] ssize_t write_blocks(int fd, const BufferBlock* head, const BufferBlock* tail,
                                       std::size_t limit) {
  iovec iov[kMaxIov];
  std::size_t count = 0;
  std::size_t total = 0;
  for (const BufferBlock* b = head; b != nullptr && total < limit && count < kMaxIov;
       b = detail::chain_next(b, tail)) {
    if (b->off == 0) continue;
    const std::size_t n = std::min(b->off, limit - total);
    iov[count++] = {b->data(), n};
    total += n;
  }
  return write_vector(fd, iov, count);
}
}  // namespace

std::vector<std::span<std::byte>> Buffer::reserve(std::size_t n) {
  drop_empty_tail();  // a previous reservation that was never committed
  std::vector<std::span<std::byte>> spans;
  const std::size_t have = tail_ != nullptr ? tail_->free_space() : 0;
  if (have > 0) spans.emplace_back(tail_->data_end(), have);
  if (have >= n && have > 0) return spans;
  // An empty block at the tail stands for the reservation until commit().
  BufferBlock* block = detail::new_block_of_alloc(detail::growth_alloc(tail_, n - have));
  push_back_block(block);
  spans.emplace_back(block->storage, block->capacity);
  return spans;
}

void Buffer::commit(std::size_t n) {
  if (tail_ == nullptr) {
    assert(n == 0 && "commit without reserve");
    return;
  }
  const std::size_t orig = length_;
  std::size_t committed;
  if (tail_->off != 0 || tail_ == head()) {
    // The reservation is the tail's free space only.
    assert(n <= tail_->free_space() && "commit larger than the reservation");
    committed = std::min(n, tail_->free_space());
    tail_->off += committed;
  } else {
    // Two spans: the previous block's free space, then the empty reserved block.
    BufferBlock* prev = block_before(tail_);
    const std::size_t first = std::min(n, prev->free_space());
    prev->off += first;
    const std::size_t second = std::min(n - first, tail_->free_space());
    assert(first + second == n && "commit larger than the reservation");
    tail_->off += second;
    committed = first + second;
  }
  length_ += committed;
  drop_empty_tail();  // nothing written into the reserved block: free it now
  notify(orig, committed, 0);
}

namespace {

// Reads of at most kSpareCapacity go through the thread's spare block (buffer_block.h). A read
// of more than kSpareKeepAbove takes the spare block itself (trimmed); less is copied out of it
// into a block of its size. A lending read (BufferInternals::read_lending) takes it whole,
// whatever the size, and gets it back when the block is freed.
constexpr std::size_t kSpareKeepAbove = 4 * 1024;

// One read into iov[0..count), retried on EINTR. One span: read(), not readv(): no iovec to
// import (see write_vector).
ssize_t read_vector(int fd, const iovec* iov, int count) {
  ssize_t n;
  do {
    n = count == 1 ? sys().read(fd, iov[0].iov_base, iov[0].iov_len) : sys().readv(fd, iov, count);
  } while (n < 0 && errno == EINTR);
  return n;
}

// One span (an empty buffer's read into the spare block: every echo's read) through read(),
// inline in read_impl, as send_span is in write_to: the call to read_vector was ~35
// instructions of every read (issue #19). An interrupted call goes on in read_vector.
ssize_t read_span(int fd, const iovec& one) {
  const ssize_t n = sys().read(fd, one.iov_base, one.iov_len);
  if (n >= 0 || errno != EINTR) [[likely]]
    return n;
  return read_vector(fd, &one, 1);
}

// Of the `got` bytes one read brought, the first (up to in_tail) went into the free space of
// the buffer's tail block: counts them there; returns the rest, which went into the next span.
std::size_t count_into_tail(BufferBlock* tail, std::size_t got, std::size_t in_tail) {
  const std::size_t to_tail = std::min(got, in_tail);
  if (to_tail > 0) tail->off += to_tail;
  return got - to_tail;
}

}  // namespace

ssize_t Buffer::read_from(int fd, std::size_t max_bytes) { return read_impl(fd, max_bytes, /*lend=*/false); }

ssize_t Buffer::read_impl(int fd, std::size_t max_bytes, bool lend) {
  if (max_bytes == 0) {
    errno = EINVAL;
    return -1;
  }
  // One read never needs more: it bounds the fresh block (and readv's ssize_t result).
  max_bytes = std::min(max_bytes, kMaxReadBytes);
  iovec iov[2];
  int count = 0;
  const std::size_t in_tail = tail_ != nullptr ? std::min(tail_->free_space(), max_bytes) : 0;
  if (in_tail > 0) iov[count++] = {tail_->data_end(), in_tail};
  // With a SysCalls installed (fault injection), every read allocates its own block as
  // before, so that an injected malloc failure hits the read that needs the block.
  BufferBlock* spare = nullptr;
  if (in_tail < max_bytes && max_bytes - in_tail <= detail::kSpareCapacity &&
      installed_sys_calls() == nullptr) {
    const std::size_t want = max_bytes - in_tail;
    // The allocation this read stands for, as the fault seam sees it: a failure means nothing
    // is read (as evbuffer_read), whether or not the spare exists already.
    if (detail::allocation_failures_armed() &&
        detail::injected_allocation_failure(detail::read_alloc(want))) {
      errno = ENOMEM;
      return -1;
    }
    spare = detail::thread_spare();  // nullptr (no memory, thread exiting): a block of its own
  }
  if (spare != nullptr) {
    iov[count++] = {spare->storage, max_bytes - in_tail};
    const ssize_t n = count == 1 ? read_span(fd, iov[0]) : read_vector(fd, iov, count);
    if (n <= 0) return n;

    const std::size_t orig = length_;
    const auto got = static_cast<std::size_t>(n);
    const std::size_t to_fresh = count_into_tail(tail_, got, in_tail);
    if (to_fresh > 0) {
      BufferBlock* block = nullptr;
      if (lend && detail::lent_spare() == nullptr) {
        // Lent whole: no copy, no allocation; it comes back when freed (buffer_internals.h).
        block = detail::take_thread_spare();
        block->off = to_fresh;
        detail::set_lent_spare(block);
      } else if (to_fresh <= kSpareKeepAbove) {
        try {
          block = detail::new_block_of_alloc(detail::block_alloc_size(to_fresh));
          std::memcpy(block->storage, spare->storage, to_fresh);
          block->off = to_fresh;
        } catch (const std::bad_alloc&) {
          block = nullptr;  // keep the bytes: hand the spare itself over below
        }
      }
      if (block == nullptr) {
        // Large (or no memory for a small copy): the spare block joins the buffer, trimmed.
        block = detail::trim_read_block(detail::take_thread_spare(), to_fresh);
      }
      push_back_block(block);
    }
    length_ += got;
    notify(orig, got, 0);
    return n;
  }
  BufferBlock* fresh = nullptr;
  if (in_tail < max_bytes) {
    const std::size_t want = max_bytes - in_tail;
    try {
      fresh = detail::new_block_of_alloc(detail::read_alloc(want));
    } catch (const std::bad_alloc&) {
      // As evbuffer_read: -1. The caller (a BufferEvent) reports it as an error for this
      // connection alone; nothing was read, nothing is lost.
      errno = ENOMEM;
      return -1;
    }
    iov[count++] = {fresh->storage, std::min(fresh->capacity, want)};
  }

  const ssize_t n = read_vector(fd, iov, count);
  if (n <= 0) {
    const int saved = errno;
    if (fresh != nullptr) detail::free_block(fresh);
    errno = saved;
    return n;
  }

  const std::size_t orig = length_;
  const auto got = static_cast<std::size_t>(n);
  const std::size_t to_fresh = count_into_tail(tail_, got, in_tail);
  if (to_fresh > 0) {
    push_back_block(detail::trim_read_block(fresh, to_fresh));
  } else if (fresh != nullptr) {
    detail::free_block(fresh);
  }
  length_ += got;
  notify(orig, got, 0);
  return n;
}

ssize_t Buffer::write_to(int fd, std::optional<std::size_t> max_bytes) {
  const std::size_t limit = max_bytes ? std::min(*max_bytes, length_) : length_;
  if (limit == 0) return 0;
  if (head() == tail_) {
    // One block (an echo's read block, a reply): it holds all length_ bytes, no iovec to build.
    BufferBlock* const block = tail_;
    const ssize_t n = send_span(fd, iovec{block->data(), limit});
    if (n <= 0) return n;
    const auto sent = static_cast<std::size_t>(n);
    if (sent < length_) {
      drain(sent);
      return n;
    }
    // All of it went (an echo, usually): the block goes at once, as drain() → free_all() would
    // free it, without their walk over a chain of one (issue #19). Then the length callback.
    tail_ = nullptr;
    length_ = 0;
    block->next = nullptr;
    detail::free_block(block);
    notify(sent, 0, sent);
    return n;
  }
  const ssize_t n = write_blocks(fd, head(), tail_, limit);
  if (n > 0) drain(static_cast<std::size_t>(n));
  return n;
}

}  // namespace reactor
