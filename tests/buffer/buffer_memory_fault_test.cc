// What a Buffer holds in memory (issue 13, item 8: a buffer grown from 257-byte reads held
// about twice its length) and what it does when an allocation fails (item 9: the failure is
// an error of that read, never a crash). Real sockets: a Unix socketpair.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "reactor/buffer.h"
#include "reactor/buffer_fault.h"

namespace reactor {
namespace {

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds); }
  ~SocketPair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

// A connection's echo with a client that does not read: every small read (one 257-byte
// segment) joins an output that already holds data. The output's blocks hold about its
// length, plus one growth block (64 KiB), not twice it.
TEST(BufferMemoryTest, OutputGrownFromSmallReadsHoldsAboutItsLength) {
  SocketPair pair;
  Buffer input;
  Buffer output;
  const std::string segment(257, 'q');
  while (output.length() < (1u << 20)) {
    ASSERT_EQ(::send(pair.fds[1], segment.data(), segment.size(), 0), 257);
    ASSERT_EQ(input.read_from(pair.fds[0]), 257);
    output.append_buffer(input);
  }
  EXPECT_TRUE(input.empty());
  EXPECT_LE(output.block_memory(), output.length() + 64 * 1024 + 1024) << output.block_count() << " blocks";
  // The bytes are intact.
  EXPECT_EQ(output.to_string(), std::string(output.length(), 'q'));
}

// The echo of a client that reads (output empty) still links the read block: no copy.
TEST(BufferMemoryTest, ABlockJoiningAnEmptyBufferIsLinkedNotCopied) {
  SocketPair pair;
  Buffer input;
  Buffer output;
  ASSERT_EQ(::send(pair.fds[1], "0123456789", 10, 0), 10);
  ASSERT_EQ(input.read_from(pair.fds[0]), 10);
  const void* data = input.peek().at(0).data();
  output.append_buffer(input);
  EXPECT_EQ(output.peek().at(0).data(), data);
}

TEST(BufferFaultTest, ReadFromFailsWithEnomemAndLosesNothing) {
  SocketPair pair;
  Buffer input;
  ASSERT_EQ(::send(pair.fds[1], "abc", 3, 0), 3);
  fault::fail_buffer_allocations(1);
  errno = 0;
  EXPECT_EQ(input.read_from(pair.fds[0]), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(fault::buffer_allocation_failures_left(), 0u);
  EXPECT_TRUE(input.empty());
  // The bytes are still in the socket: the next read gets them.
  EXPECT_EQ(input.read_from(pair.fds[0]), 3);
  EXPECT_EQ(input.to_string(), "abc");
}

TEST(BufferFaultTest, AppendThrowsBadAllocAndKeepsTheBufferIntact) {
  Buffer b;
  b.append("kept");
  fault::fail_buffer_allocations(1, 1024);
  EXPECT_THROW(b.append(std::string(4096, 'x')), std::bad_alloc);
  EXPECT_EQ(b.to_string().substr(0, 4), "kept");
  fault::fail_buffer_allocations(0);
}

}  // namespace
}  // namespace reactor
