// search and readln, with block boundaries placed inside needles and end-of-line markers
// ("\r" | "\n"), using one add_reference block per piece.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "buffer_test_util.h"
#include "reactor/buffer.h"

namespace reactor {
namespace {

using reactord::test_support::append_pieces;
using namespace std::string_view_literals;

std::vector<std::string> read_all_lines(Buffer& buf, EolStyle style) {
  std::vector<std::string> lines;
  for (int guard = 0; guard < 1000; ++guard) {
    auto line = buf.readln(style);
    if (!line) break;
    lines.push_back(*line);
  }
  return lines;
}

using Lines = std::vector<std::string>;

TEST(BufferSearchTest, FindsNeedlesAcrossBlocks) {
  Buffer buf;
  append_pieces(buf, {"hel", "lo wo", "rld", "!"});
  ASSERT_EQ(buf.block_count(), 4u);
  EXPECT_EQ(buf.search("hello"), 0u);
  EXPECT_EQ(buf.search("lo w"), 3u);
  EXPECT_EQ(buf.search("o"), 4u);
  EXPECT_EQ(buf.search("o", 5), 7u);
  EXPECT_EQ(buf.search("lo world!"), 3u);  // spans four blocks
  EXPECT_EQ(buf.search("world!"), 6u);
  EXPECT_EQ(buf.search("!"), 11u);
  EXPECT_EQ(buf.search("worlds"), std::nullopt);
  EXPECT_EQ(buf.search("hello world!!"), std::nullopt);  // longer than the buffer
  EXPECT_EQ(buf.search("h", 1), std::nullopt);
  EXPECT_EQ(buf.search("", 12), 12u);
  EXPECT_EQ(buf.search("", 13), std::nullopt);
  EXPECT_EQ(buf.search("x", 100), std::nullopt);
}

// The chain is circular (a Buffer keeps only its tail; issue #19): a needle that starts at the
// end of the last block must not continue into the first one, and a line end at the end must
// not run on into the first block.
TEST(BufferSearchTest, MatchesNeverWrapFromTheLastBlockToTheFirst) {
  Buffer buf;
  append_pieces(buf, {"bc\r", "xyz", "a\n"});
  ASSERT_EQ(buf.block_count(), 3u);
  EXPECT_EQ(buf.search("abc"), std::nullopt);
  EXPECT_EQ(buf.search("a\nbc"), std::nullopt);
  EXPECT_EQ(buf.search("a\n"), 6u);
  EXPECT_EQ(buf.search("\r"), 2u);
  EXPECT_EQ(read_all_lines(buf, EolStyle::kAny), (Lines{"bc", "xyza"}));
  EXPECT_EQ(buf.length(), 0u);
  EXPECT_EQ(buf.block_count(), 0u);
}

TEST(BufferSearchTest, ReturnsEarliestMatchEvenWhenItCrossesABlock) {
  Buffer buf;
  append_pieces(buf, {"xxab", "cxxabc"});
  EXPECT_EQ(buf.search("abc"), 2u);
  EXPECT_EQ(buf.search("abc", 3), 7u);
  Buffer other;
  append_pieces(other, {"aaaa", "aaab"});
  EXPECT_EQ(other.search("aab"), 5u);
}

TEST(BufferSearchTest, RepetitiveDataSwitchesToMemmemAndStaysCorrect) {
  // Thousands of false first-byte candidates per block: the scan falls back to memmem for
  // in-block matches and still finds matches that cross a block boundary.
  Buffer buf;
  for (int i = 0; i < 5; ++i) {
    Buffer piece;
    piece.append(std::string(1000, 'a'));
    buf.append_buffer(piece);
  }
  buf.append("b");
  const std::string needle = std::string(20, 'a') + "b";
  EXPECT_EQ(buf.search(needle), 5000u - 20);
  EXPECT_EQ(buf.search("aab", 10), 4998u);
  EXPECT_EQ(buf.search("ac"), std::nullopt);
  Buffer cross;
  append_pieces(cross,
                {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaax", "yz"});
  EXPECT_EQ(cross.search("axy"), 74u);  // 75 a, then x
  EXPECT_EQ(cross.search("aaaax"), 71u);
}

TEST(BufferSearchTest, ReadlnLfAcrossBlocks) {
  Buffer buf;
  append_pieces(buf, {"ab", "c\nde", "f\r", "\n", "\n"});
  EXPECT_EQ(read_all_lines(buf, EolStyle::kLf), (Lines{"abc", "def\r", ""}));
  EXPECT_EQ(buf.length(), 0u);
  EXPECT_EQ(buf.block_count(), 0u);
}

TEST(BufferSearchTest, ReadlnNulAcrossBlocks) {
  Buffer buf;
  append_pieces(buf, {"ke", "y\0va"sv, "lue", "\0"sv, "rest"});
  EXPECT_EQ(read_all_lines(buf, EolStyle::kNul), (Lines{"key", "value"}));
  EXPECT_EQ(buf.to_string(), "rest");
}

TEST(BufferSearchTest, ReadlnCrlfWithCrAndLfInDifferentBlocks) {
  Buffer buf;
  append_pieces(buf, {"GET / HTTP/1.1\r", "\nHost: x\n", "a\rb\r", "\n", "\r", "\r\n"});
  EXPECT_EQ(read_all_lines(buf, EolStyle::kCrlf), (Lines{"GET / HTTP/1.1", "Host: x", "a\rb", "\r"}));
  EXPECT_EQ(buf.length(), 0u);
}

TEST(BufferSearchTest, ReadlnCrlfWaitsForTheLf) {
  Buffer buf;
  buf.append("partial\r");
  EXPECT_EQ(buf.readln(EolStyle::kCrlf), std::nullopt);
  EXPECT_EQ(buf.length(), 8u);
  buf.append("\n");
  EXPECT_EQ(buf.readln(EolStyle::kCrlf), "partial");
}

TEST(BufferSearchTest, ReadlnCrlfStrictNeedsCrLfPair) {
  Buffer buf;
  append_pieces(buf, {"a\nb\r", "\nc\r", "d\r", "\n", "e\r"});
  EXPECT_EQ(read_all_lines(buf, EolStyle::kCrlfStrict), (Lines{"a\nb", "c\rd"}));
  EXPECT_EQ(buf.to_string(), "e\r");
  buf.append("\n");
  EXPECT_EQ(buf.readln(EolStyle::kCrlfStrict), "e");
}

TEST(BufferSearchTest, ReadlnAnyConsumesTheWholeRunAcrossBlocks) {
  Buffer buf;
  append_pieces(buf, {"one\r", "\n\r", "\ntwo", "\n", "three\r"});
  EXPECT_EQ(read_all_lines(buf, EolStyle::kAny), (Lines{"one", "two", "three"}));
  EXPECT_EQ(buf.length(), 0u);
  // As in libevent, a run cut by the end of the buffer ends there: the "\n" that arrives
  // later is an empty line.
  buf.append("\nfour\n");
  EXPECT_EQ(read_all_lines(buf, EolStyle::kAny), (Lines{"", "four"}));
}

TEST(BufferSearchTest, ReadlnWithoutEolReturnsNothing) {
  for (EolStyle style :
       {EolStyle::kAny, EolStyle::kCrlf, EolStyle::kCrlfStrict, EolStyle::kLf, EolStyle::kNul}) {
    Buffer buf;
    EXPECT_EQ(buf.readln(style), std::nullopt);
    append_pieces(buf, {"no", " end"});
    EXPECT_EQ(buf.readln(style), std::nullopt);
    EXPECT_EQ(buf.length(), 6u);
  }
}

TEST(BufferSearchTest, ReadlnLongLineSpanningManyBlocks) {
  // Reference blocks: append_buffer never compacts them, so the line really spans 50 blocks.
  std::vector<std::string> storage;
  for (int i = 0; i < 50; ++i) storage.emplace_back(1000, static_cast<char>('a' + i % 26));
  Buffer buf;
  std::string expected;
  for (const std::string& text : storage) {
    Buffer piece;
    piece.add_reference(text.data(), text.size(), {});
    expected += text;
    buf.append_buffer(piece);
  }
  buf.append("\r\nnext");
  EXPECT_GE(buf.block_count(), 50u);
  EXPECT_EQ(buf.readln(EolStyle::kCrlfStrict), expected);
  EXPECT_EQ(buf.to_string(), "next");
}

}  // namespace
}  // namespace reactor
