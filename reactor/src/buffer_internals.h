// What a BufferEvent does inside its Buffers that the public Buffer API does not offer:
// reading into the thread's spare block and handing that block over whole (issue #19).
//
// Buffer::read_from reads into the thread's 64 KiB spare block and copies a small read out
// into a block of its size (a larger one takes the spare, trimmed), so that a Buffer never
// holds a mostly empty 64 KiB block for long. A BufferEvent knows more: right after the read
// its read callback runs, and an echo (or a proxy) sends the bytes on and frees the block in
// that callback. So its read *lends* the spare: the block joins the input as it is, no copy,
// no allocation; freed, it becomes the thread's spare again (buffer_block.h), and the next
// read allocates, copies and frees nothing. After the callback, settle_lent compacts the block
// if it is still in the BufferEvent's input or output (a partial send, an unread input), so
// the memory a connection keeps is what it was without lending. A lent block that the callback
// moved to some other Buffer is left there whole until that Buffer lets it go.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "buffer_block.h"
#include "reactor/buffer.h"

namespace reactor::detail {

struct BufferInternals {
  // read_from, lending the thread's spare block to `input` when no other lent block is
  // outstanding on this thread (else as read_from). Owner thread only.
  static ssize_t read_lending(Buffer& input, int fd, std::size_t max_bytes) {
    return input.read_impl(fd, max_bytes, /*lend=*/true);
  }
  // After the read callback: a lent block that has not come back and is still in `input` or
  // `output` is compacted to its data's size. One thread-local load when it came back.
  static void settle_lent(Buffer& input, Buffer& output) {
    const BufferBlock* lent = lent_spare();
    if (lent == nullptr) return;
    set_lent_spare(nullptr);
    if (!input.shrink_lent_block(lent)) output.shrink_lent_block(lent);
  }
  // Whether `buffer` has a length callback: a BufferEvent sends straight from the caller's
  // buffer (write_buffer) only when its output has none, so that the output's callback still
  // sees every byte pass through it.
  static bool has_length_callback(const Buffer& buffer) { return buffer.has_length_callback_ != 0; }
};

}  // namespace reactor::detail
