// Moving bytes between Buffers (append_buffer, move_to) relinks blocks: the same memory shows
// up in the destination, proven by comparing peek() span pointers before and after.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "buffer_test_util.h"
#include "reactor/buffer.h"

namespace reactor {
namespace {

std::vector<const std::byte*> block_pointers(const Buffer& buf) {
  std::vector<const std::byte*> out;
  for (auto span : buf.peek()) out.push_back(span.data());
  return out;
}

// A buffer of `blocks` owned blocks of `size` bytes each (filled with 'a', 'b', ...).
Buffer owned_blocks(int blocks, std::size_t size) {
  Buffer buf;
  for (int i = 0; i < blocks; ++i) {
    Buffer one;
    one.append(std::string(size, static_cast<char>('a' + i)));
    buf.append_buffer(one);
  }
  return buf;
}

TEST(BufferMoveTest, AppendBufferRelinksBlocks) {
  Buffer src = owned_blocks(3, 4000);
  ASSERT_EQ(src.block_count(), 3u);
  const auto before = block_pointers(src);
  const std::string content = src.to_string();
  Buffer dst;
  dst.append_buffer(src);
  EXPECT_EQ(block_pointers(dst), before);
  EXPECT_EQ(dst.to_string(), content);
  EXPECT_EQ(src.length(), 0u);
  EXPECT_EQ(src.block_count(), 0u);
}

TEST(BufferMoveTest, AppendBufferAfterExistingData) {
  // Full blocks after a full tail are relinked (4032 bytes fill a 4 KiB block; a tail with
  // room, or a mostly empty block, would be compacted instead: see buffer_memory_fault_test).
  Buffer dst;
  dst.append(std::string(4032, 'x'));
  Buffer src = owned_blocks(2, 4000);
  const auto moved = block_pointers(src);
  dst.append_buffer(src);
  const auto after = block_pointers(dst);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[1], moved[0]);
  EXPECT_EQ(after[2], moved[1]);
  EXPECT_EQ(dst.to_string(), std::string(4032, 'x') + std::string(4000, 'a') + std::string(4000, 'b'));
}

TEST(BufferMoveTest, MoveToMovesWholeBlocksAndCopiesOnlyTheSplitOne) {
  Buffer src = owned_blocks(3, 4000);
  const auto before = block_pointers(src);
  Buffer dst;
  EXPECT_EQ(src.move_to(dst, 9000), 9000u);
  const auto moved = block_pointers(dst);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved[0], before[0]);
  EXPECT_EQ(moved[1], before[1]);
  EXPECT_NE(moved[2], before[2]);  // the split block's first 1000 bytes were copied
  // What stayed behind is the rest of the third block, in place.
  const auto rest = block_pointers(src);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], before[2] + 1000);
  EXPECT_EQ(dst.to_string(), std::string(4000, 'a') + std::string(4000, 'b') + std::string(1000, 'c'));
  EXPECT_EQ(src.to_string(), std::string(3000, 'c'));
}

TEST(BufferMoveTest, LargeSplitIsSharedNotCopied) {
  Buffer src;
  src.append(std::string(3000, 'a') + std::string(2000, 'b'));  // one 8 KiB block
  ASSERT_EQ(src.block_count(), 1u);
  const std::byte* block = src.peek()[0].data();
  Buffer dst;
  EXPECT_EQ(src.move_to(dst, 3000), 3000u);
  ASSERT_EQ(dst.block_count(), 1u);
  EXPECT_EQ(dst.peek()[0].data(), block);  // the same memory, seen from both buffers
  EXPECT_EQ(src.peek()[0].data(), block + 3000);
  // Writing around the shared bytes must not touch them: a prepend to src cannot reuse the
  // drained front (dst shows it), appends go to the free space after src's data.
  src.prepend("P");
  src.append("Q");
  EXPECT_EQ(dst.to_string(), std::string(3000, 'a'));
  EXPECT_EQ(src.to_string(), "P" + std::string(2000, 'b') + "Q");
  // pullup may not compact the shared block either.
  Buffer more;
  more.append(std::string(600, 'c'));
  dst.append_buffer(more);
  ASSERT_TRUE(dst.pullup(3300).has_value());
  EXPECT_EQ(src.to_string(), "P" + std::string(2000, 'b') + "Q");
  EXPECT_EQ(dst.to_string(), std::string(3000, 'a') + std::string(600, 'c'));
  // Either side may go first; the memory lives until both are done (ASan checks).
  src.drain(src.length());
  EXPECT_EQ(dst.to_string(), std::string(3000, 'a') + std::string(600, 'c'));
  dst.drain(dst.length());
  EXPECT_EQ(dst.block_count(), 0u);
}

TEST(BufferMoveTest, SharedBlockSplitAgainAndMovedBack) {
  Buffer a;
  a.append(std::string(6000, 'x'));
  const std::byte* block = a.peek()[0].data();
  Buffer b;
  a.move_to(b, 5000);  // view of 5000
  Buffer c;
  b.move_to(c, 2500);  // the view split again: a view of the same block
  EXPECT_EQ(c.peek()[0].data(), block);
  EXPECT_EQ(b.peek()[0].data(), block + 2500);
  a.append_buffer(c);  // back into the buffer that owns the block
  a.append_buffer(b);
  EXPECT_EQ(a.to_string(), std::string(6000, 'x'));
  EXPECT_EQ(a.block_count(), 3u);
  a.drain(1000);
  a.prepend("front");
  EXPECT_EQ(a.to_string(), "front" + std::string(5000, 'x'));
}

TEST(BufferMoveTest, MoveToEverythingOrMoreMovesAll) {
  Buffer src = owned_blocks(2, 1000);
  const auto before = block_pointers(src);
  Buffer dst;
  EXPECT_EQ(src.move_to(dst, 1 << 20), 2000u);
  EXPECT_EQ(block_pointers(dst), before);
  EXPECT_EQ(src.block_count(), 0u);
  EXPECT_EQ(src.move_to(dst, 10), 0u);
  EXPECT_EQ(dst.move_to(dst, 10), 0u);  // to itself: nothing
  dst.append_buffer(dst);
  EXPECT_EQ(dst.length(), 2000u);
}

TEST(BufferMoveTest, TinyBlocksAreCopiedIntoTailSpace) {
  Buffer dst;
  dst.append("head");  // 512-byte block with lots of room
  Buffer src;
  src.append("tiny");
  dst.append_buffer(src);
  EXPECT_EQ(dst.block_count(), 1u);
  EXPECT_EQ(dst.to_string(), "headtiny");
  EXPECT_EQ(src.block_count(), 0u);
}

TEST(BufferMoveTest, MoveNotifiesBothBuffers) {
  Buffer src;
  Buffer dst;
  std::size_t src_deleted = 0;
  std::size_t dst_added = 0;
  src.set_length_callback([&](std::size_t, std::size_t, std::size_t d) { src_deleted += d; });
  dst.set_length_callback([&](std::size_t, std::size_t a, std::size_t) { dst_added += a; });
  src.append(std::string(3000, 's'));
  src.move_to(dst, 1000);
  dst.append_buffer(src);
  EXPECT_EQ(src_deleted, 3000u);
  EXPECT_EQ(dst_added, 3000u);
  EXPECT_EQ(dst.to_string(), std::string(3000, 's'));
}

}  // namespace
}  // namespace reactor
