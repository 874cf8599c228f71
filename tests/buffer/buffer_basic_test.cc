// Buffer basics: add/prepend/drain/remove/copy_out/peek/pullup/reserve+commit, the length
// callback, block accounting and add_reference release rules.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "buffer_test_util.h"
#include "reactor/buffer.h"

namespace reactor {
namespace {

using reactord::test_support::append_pieces;
using reactord::test_support::as_string;

// Two words (issue #19): the tail block (the chain is circular: the tail's next is the head)
// and the length, whose top bit says a length callback is set (kept outside the Buffer).
TEST(BufferTest, EmptyBufferHoldsNoBlocksAndIsTwoWords) {
  Buffer buf;
  EXPECT_EQ(sizeof(Buffer), 2 * sizeof(void*));
  EXPECT_EQ(buf.length(), 0u);
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(buf.block_count(), 0u);
  EXPECT_EQ(buf.contiguous_space(), 0u);
  EXPECT_TRUE(buf.peek().empty());
  EXPECT_EQ(buf.drain(10), 0u);
}

TEST(BufferTest, AppendAndDrainEverythingFreesAllBlocks) {
  Buffer buf;
  std::string big(100000, 'x');
  buf.append(big);
  buf.append("tail");
  EXPECT_EQ(buf.length(), big.size() + 4);
  EXPECT_GE(buf.block_count(), 1u);
  EXPECT_EQ(buf.drain(50000), 50000u);
  EXPECT_EQ(buf.length(), 50004u);
  EXPECT_EQ(buf.drain(1 << 30), 50004u);
  EXPECT_EQ(buf.length(), 0u);
  EXPECT_EQ(buf.block_count(), 0u);
}

TEST(BufferTest, SmallAppendsShareBlocksAndGrowGeometrically) {
  Buffer buf;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    buf.append(piece);
    expected += piece;
  }
  EXPECT_EQ(buf.to_string(), expected);
  // ~49 KB in doubling blocks from 512 B: a handful of blocks, not thousands.
  EXPECT_LE(buf.block_count(), 10u);
}

TEST(BufferTest, PrependFillsFrontSpaceThenNewBlocks) {
  Buffer buf;
  buf.prepend("world");
  EXPECT_EQ(buf.to_string(), "world");
  buf.prepend("hello ");
  EXPECT_EQ(buf.to_string(), "hello world");
  EXPECT_EQ(buf.block_count(), 2u);  // "hello " went to the end of a new block
  buf.drain(8);                      // frees that block and 2 bytes of "world"
  EXPECT_EQ(buf.block_count(), 1u);
  buf.prepend("wo");  // fits in the drained front space of the head block
  EXPECT_EQ(buf.block_count(), 1u);
  buf.prepend("HELLO ");
  EXPECT_EQ(buf.to_string(), "HELLO world");
  buf.pullup(buf.length());
  EXPECT_EQ(buf.contiguous_space(), buf.length());
  std::string many;
  for (int i = 0; i < 500; ++i) {
    buf.prepend("ab");
    many += "ab";
  }
  EXPECT_EQ(buf.to_string(), many + "HELLO world");
}

TEST(BufferTest, RemoveAndCopyOut) {
  Buffer buf;
  append_pieces(buf, {"abc", "defg", "hi"});
  char out[16] = {};
  EXPECT_EQ(buf.copy_out(out, 5), 5u);
  EXPECT_EQ(std::string(out, 5), "abcde");
  EXPECT_EQ(buf.length(), 9u);
  EXPECT_EQ(buf.remove(out, 4), 4u);
  EXPECT_EQ(std::string(out, 4), "abcd");
  EXPECT_EQ(buf.to_string(), "efghi");
  EXPECT_EQ(buf.remove(out, sizeof(out)), 5u);
  EXPECT_EQ(std::string(out, 5), "efghi");
  EXPECT_EQ(buf.block_count(), 0u);
}

TEST(BufferTest, PeekReturnsSpansWithoutCopying) {
  Buffer buf;
  static const char kA[] = "0123";
  static const char kB[] = "4567";
  buf.add_reference(kA, 4, nullptr);
  buf.add_reference(kB, 4, nullptr);
  auto all = buf.peek();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(static_cast<const void*>(all[0].data()), kA);
  EXPECT_EQ(static_cast<const void*>(all[1].data()), kB);
  auto part = buf.peek(6);
  ASSERT_EQ(part.size(), 2u);
  EXPECT_EQ(as_string(part[0]), "0123");
  EXPECT_EQ(as_string(part[1]), "45");
  EXPECT_EQ(buf.peek(0).size(), 0u);
  EXPECT_EQ(buf.peek(100).size(), 2u);
  EXPECT_EQ(buf.length(), 8u);
}

TEST(BufferTest, PullupMakesFrontContiguous) {
  Buffer buf;
  append_pieces(buf, {"ab", "cd", "ef", "gh"});
  EXPECT_EQ(buf.contiguous_space(), 2u);
  EXPECT_FALSE(buf.pullup(9).has_value());
  auto front = buf.pullup(5);
  ASSERT_TRUE(front.has_value());
  EXPECT_EQ(as_string(*front), "abcde");
  EXPECT_GE(buf.contiguous_space(), 5u);
  EXPECT_EQ(buf.to_string(), "abcdefgh");
  auto whole = buf.pullup(8);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(as_string(*whole), "abcdefgh");
  EXPECT_EQ(buf.block_count(), 1u);
  // Already contiguous: no copy, same bytes.
  auto again = buf.pullup(3);
  EXPECT_EQ(again->data(), whole->data());
  EXPECT_EQ(buf.pullup(0)->size(), 0u);
}

TEST(BufferTest, PullupReusesRoomyHeadBlock) {
  Buffer buf;
  buf.append(std::string(300, 'a'));  // one 512-byte block
  buf.drain(290);                     // 10 bytes left near the end of it
  Buffer other;
  other.append(std::string(400, 'b'));
  buf.append_buffer(other);  // 400 > 256 bytes: linked, not copied
  ASSERT_EQ(buf.block_count(), 2u);
  auto front = buf.pullup(200);
  ASSERT_TRUE(front.has_value());
  EXPECT_EQ(as_string(*front), std::string(10, 'a') + std::string(190, 'b'));
  EXPECT_EQ(buf.to_string(), std::string(10, 'a') + std::string(400, 'b'));
}

TEST(BufferTest, ReserveCommitWritesInPlace) {
  Buffer buf;
  auto spans = buf.reserve(1000);
  ASSERT_FALSE(spans.empty());
  std::size_t room = 0;
  for (auto s : spans) room += s.size();
  EXPECT_GE(room, 1000u);
  std::memset(spans[0].data(), 'z', 600);
  buf.commit(600);
  EXPECT_EQ(buf.to_string(), std::string(600, 'z'));

  // Two spans: the tail's free space, then a fresh block.
  const std::size_t tail_free = buf.reserve(1)[0].size();
  spans = buf.reserve(tail_free + 100);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].size(), tail_free);
  std::memset(spans[0].data(), 'p', spans[0].size());
  std::memset(spans[1].data(), 'q', 100);
  buf.commit(tail_free + 100);
  EXPECT_EQ(buf.to_string(), std::string(600, 'z') + std::string(tail_free, 'p') + std::string(100, 'q'));

  // Committing nothing frees the reserved block.
  const std::size_t blocks = buf.block_count();
  spans = buf.reserve(100000);
  EXPECT_EQ(buf.block_count(), blocks + 1);
  buf.commit(0);
  EXPECT_EQ(buf.block_count(), blocks);
  buf.drain(buf.length());
  EXPECT_EQ(buf.block_count(), 0u);
}

TEST(BufferTest, LengthCallbackSeesEveryChange) {
  Buffer buf;
  struct Change {
    std::size_t orig, added, deleted;
  };
  std::vector<Change> changes;
  buf.set_length_callback([&](std::size_t o, std::size_t a, std::size_t d) { changes.push_back({o, a, d}); });
  buf.append("hello");
  buf.prepend(">");
  buf.drain(2);
  char out[2];
  buf.remove(out, 2);
  buf.copy_out(out, 1);  // no change, no call
  buf.append("");        // no change, no call
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].orig, 0u);
  EXPECT_EQ(changes[0].added, 5u);
  EXPECT_EQ(changes[1].orig, 5u);
  EXPECT_EQ(changes[1].added, 1u);
  EXPECT_EQ(changes[2].deleted, 2u);
  EXPECT_EQ(changes[3].orig, 4u);
  EXPECT_EQ(changes[3].deleted, 2u);
  buf.set_length_callback(nullptr);
  buf.append("x");
  EXPECT_EQ(changes.size(), 4u);
}

TEST(BufferTest, LengthCallbackMayClearOrReplaceItselfAndModifyTheBuffer) {
  Buffer buf;
  int first = 0;
  int second = 0;
  buf.set_length_callback([&](std::size_t, std::size_t added, std::size_t) {
    ++first;
    if (added > 0) buf.drain(1);  // nested change: notified again, re-entering this callback
    buf.set_length_callback([&](std::size_t, std::size_t, std::size_t) { ++second; });
  });
  buf.append("abc");
  EXPECT_EQ(first, 2);  // the append, then the nested drain
  EXPECT_EQ(buf.to_string(), "bc");
  buf.append("d");
  EXPECT_EQ(second, 1);
  buf.set_length_callback([&](std::size_t, std::size_t, std::size_t) {
    ++first;
    buf.set_length_callback(nullptr);
  });
  buf.drain(1);
  buf.drain(1);
  EXPECT_EQ(first, 3);
}

TEST(BufferTest, MoveConstructionTakesBlocksAndCallback) {
  Buffer a;
  int calls = 0;
  a.set_length_callback([&](std::size_t, std::size_t, std::size_t) { ++calls; });
  a.append(std::string(1000, 'm'));
  EXPECT_EQ(calls, 1);
  const auto* data = a.peek()[0].data();
  Buffer b(std::move(a));
  EXPECT_EQ(a.length(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.block_count(), 0u);
  EXPECT_EQ(b.peek()[0].data(), data);
  b.drain(1);
  EXPECT_EQ(calls, 2);
  Buffer c;
  c.append("old");
  c = std::move(b);
  EXPECT_EQ(c.length(), 999u);
  c.drain(1);
  EXPECT_EQ(calls, 3);  // the callback moved along with the move assignment
  b.append("x");        // NOLINT(bugprone-use-after-move): the moved-from Buffer has none left
  a.append("y");        // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(calls, 3);
}

// The length callback lives outside the Buffer (a process-wide table, issue #19): a Buffer
// given its callback on one thread and used on another still calls it; move assignment
// replaces the target's own callback; a destroyed Buffer's callback is gone with it (a new
// Buffer, possibly at the same address, has none).
TEST(BufferTest, LengthCallbackFollowsTheBufferAcrossThreadsAndMoves) {
  std::vector<std::size_t> seen;
  auto buf = std::make_unique<Buffer>();
  buf->set_length_callback([&](std::size_t orig, std::size_t added, std::size_t deleted) {
    seen.push_back(orig + added - deleted);
  });
  std::thread other([&] {
    buf->append("abc");
    Buffer moved(std::move(*buf));
    moved.append("de");
    *buf = std::move(moved);
    buf->drain(5);
  });
  other.join();
  EXPECT_EQ(seen, (std::vector<std::size_t>{3, 5, 0}));
  Buffer replaced;
  int replaced_calls = 0;
  replaced.set_length_callback([&](std::size_t, std::size_t, std::size_t) { ++replaced_calls; });
  Buffer plain;
  replaced = std::move(plain);  // plain had no callback: neither has `replaced` now
  replaced.append("z");
  EXPECT_EQ(replaced_calls, 0);
  buf.reset();
  for (int i = 0; i < 4; ++i) {
    auto fresh = std::make_unique<Buffer>();
    fresh->append("q");
    fresh->drain(1);
  }
  EXPECT_EQ(seen.size(), 3u);
}

// --- add_reference: release exactly once, whoever holds the block last ---

struct ReleaseCounter {
  int calls = 0;
  const void* data = nullptr;
  std::size_t len = 0;
  Buffer::ReleaseCallback callback() {
    return [this](const void* d, std::size_t l) {
      ++calls;
      data = d;
      len = l;
    };
  }
};

TEST(BufferTest, ReferenceReleasedOnceAfterDrain) {
  static const char kText[] = "external memory";
  ReleaseCounter counter;
  Buffer buf;
  buf.append("head:");
  buf.add_reference(kText, sizeof(kText) - 1, counter.callback());
  buf.append(":tail");
  EXPECT_EQ(buf.to_string(), "head:external memory:tail");
  buf.drain(10);
  EXPECT_EQ(counter.calls, 0);
  buf.drain(15);  // through the end of the reference
  EXPECT_EQ(counter.calls, 1);
  EXPECT_EQ(counter.data, kText);
  EXPECT_EQ(counter.len, sizeof(kText) - 1);
  buf.drain(100);
  EXPECT_EQ(counter.calls, 1);
}

TEST(BufferTest, ReferenceReleasedOnceAfterMoveAndDrain) {
  static const char kText[] = "0123456789";
  ReleaseCounter counter;
  Buffer src;
  Buffer dst;
  src.add_reference(kText, 10, counter.callback());
  dst.append_buffer(src);
  EXPECT_EQ(counter.calls, 0);
  EXPECT_EQ(static_cast<const void*>(dst.peek()[0].data()), kText);  // not copied
  dst.drain(10);
  EXPECT_EQ(counter.calls, 1);
}

TEST(BufferTest, ReferenceSplitByMoveIsSharedAndReleasedOnce) {
  static const char kText[] = "abcdefghij";
  ReleaseCounter counter;
  Buffer src;
  Buffer dst;
  src.add_reference(kText, 10, counter.callback());
  EXPECT_EQ(src.move_to(dst, 4), 4u);
  EXPECT_EQ(dst.to_string(), "abcd");
  EXPECT_EQ(src.to_string(), "efghij");
  EXPECT_EQ(static_cast<const void*>(dst.peek()[0].data()), kText);
  EXPECT_EQ(static_cast<const void*>(src.peek()[0].data()), kText + 4);
  src.drain(6);
  EXPECT_EQ(counter.calls, 0);  // dst still refers to the first 4 bytes
  dst.drain(4);
  EXPECT_EQ(counter.calls, 1);
  EXPECT_EQ(counter.len, 10u);
}

TEST(BufferTest, ReferenceReleasedOnDestructionAndPullup) {
  static const char kText[] = "xyz";
  ReleaseCounter on_destroy;
  {
    Buffer buf;
    buf.add_reference(kText, 3, on_destroy.callback());
    Buffer other;
    buf.move_to(other, 3);
    EXPECT_EQ(on_destroy.calls, 0);
  }
  EXPECT_EQ(on_destroy.calls, 1);

  ReleaseCounter on_pullup;
  Buffer buf;
  buf.append("12");
  buf.add_reference(kText, 3, on_pullup.callback());
  auto front = buf.pullup(5);  // copies the referenced bytes; the reference goes away
  EXPECT_EQ(as_string(*front), "12xyz");
  EXPECT_EQ(on_pullup.calls, 1);

  ReleaseCounter empty;
  buf.add_reference(kText, 0, empty.callback());
  EXPECT_EQ(empty.calls, 1);
}

}  // namespace
}  // namespace reactor
