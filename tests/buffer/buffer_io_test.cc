// read_from / write_to over real sockets: Unix socketpairs, a pipe and TCP on 127.0.0.1.
// Non-blocking descriptors, every loop bounded by a step count.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "reactor/buffer.h"

namespace reactor {
namespace {

// A small owner for the descriptors of one test (the reactor's UniqueFd lives in reactor_core,
// which this library must not depend on).
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void make_socketpair(Fd& a, Fd& b) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  a.fd = fds[0];
  b.fd = fds[1];
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) % 251);
  return s;
}

TEST(BufferIoTest, ReadOnEmptySocketIsEagainAndKeepsNoBlock) {
  Fd a, b;
  make_socketpair(a, b);
  Buffer buf;
  errno = 0;
  EXPECT_EQ(buf.read_from(a.fd), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  EXPECT_EQ(buf.length(), 0u);
  EXPECT_EQ(buf.block_count(), 0u);  // the block prepared for readv was freed
}

// Reads go through the thread's spare read block (issue #19): a small read is copied into a
// block of its size, a large one takes the spare itself and the next read makes a new one.
// Whatever the order, no buffer shares bytes with another or with the spare.
TEST(BufferIoTest, SpareReadBlockNeverAliasesBuffers) {
  Fd a, b;
  make_socketpair(a, b);
  const std::string large = pattern(40 * 1024, 3);
  const std::string small = pattern(100, 7);
  Buffer first, second, third;
  ASSERT_EQ(::write(b.fd, large.data(), large.size()), static_cast<ssize_t>(large.size()));
  ASSERT_EQ(first.read_from(a.fd), static_cast<ssize_t>(large.size()));
  ASSERT_EQ(::write(b.fd, small.data(), small.size()), static_cast<ssize_t>(small.size()));
  ASSERT_EQ(second.read_from(a.fd), static_cast<ssize_t>(small.size()));
  ASSERT_EQ(::write(b.fd, "tail", 4), 4);
  ASSERT_EQ(third.read_from(a.fd), 4);
  EXPECT_EQ(first.to_string(), large);
  EXPECT_EQ(second.to_string(), small);
  EXPECT_EQ(third.to_string(), "tail");
  // Small reads hold a block of their size, not the 64 KiB they could have read.
  EXPECT_EQ(second.block_count(), 1u);
  EXPECT_LE(second.block_memory(), 512u);
  // The large read was trimmed to a power of two around its size.
  EXPECT_LE(first.block_memory(), 2 * large.size());
}

TEST(BufferIoTest, ReadReturnsZeroAtEof) {
  Fd a, b;
  make_socketpair(a, b);
  ASSERT_EQ(::write(b.fd, "bye", 3), 3);
  b.reset();
  Buffer buf;
  EXPECT_EQ(buf.read_from(a.fd), 3);
  EXPECT_EQ(buf.read_from(a.fd), 0);
  EXPECT_EQ(buf.to_string(), "bye");
}

TEST(BufferIoTest, ReadsMoreThanFourKibInOneCall) {
  Fd a, b;
  make_socketpair(a, b);
  const std::string data = pattern(60000, 1);
  ASSERT_EQ(::write(b.fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  Buffer buf;
  EXPECT_EQ(buf.read_from(a.fd), 60000);  // one readv, no 4 KiB cap
  EXPECT_EQ(buf.to_string(), data);
  EXPECT_LE(buf.block_count(), 1u);
}

TEST(BufferIoTest, ReadRespectsMaxBytesAndAppendsToTail) {
  Fd a, b;
  make_socketpair(a, b);
  const std::string data = pattern(10000, 2);
  ASSERT_EQ(::write(b.fd, data.data(), data.size()), 10000);
  Buffer buf;
  buf.append("prefix");
  EXPECT_EQ(buf.read_from(a.fd, 100), 100);
  EXPECT_EQ(buf.block_count(), 1u);  // fitted into the tail block's free space
  EXPECT_EQ(buf.read_from(a.fd, 1 << 20), 9900);
  EXPECT_EQ(buf.to_string(), "prefix" + data);
  // Into an empty buffer, max_bytes is honoured exactly: a 4 KiB message is one call.
  ASSERT_EQ(::write(b.fd, data.data(), 4096), 4096);
  Buffer fresh;
  EXPECT_EQ(fresh.read_from(a.fd, 4096), 4096);
  errno = 0;
  EXPECT_EQ(buf.read_from(a.fd, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(BufferIoTest, SmallReadDoesNotKeepABigBlock) {
  Fd a, b;
  make_socketpair(a, b);
  ASSERT_EQ(::write(b.fd, "tiny", 4), 4);
  Buffer buf;
  EXPECT_EQ(buf.read_from(a.fd, 1 << 20), 4);
  // The 1 MiB block prepared for readv was trimmed to a 512-byte one.
  const auto free_space = buf.reserve(1);
  ASSERT_EQ(free_space.size(), 1u);
  EXPECT_LT(free_space[0].size(), 512u);
  buf.commit(0);
  EXPECT_EQ(buf.to_string(), "tiny");
}

TEST(BufferIoTest, LargeTransferThroughSocketpair) {
  Fd a, b;
  make_socketpair(a, b);
  const std::string data = pattern(8 << 20, 3);
  Buffer out;
  out.append(data);
  Buffer in;
  int steps = 0;
  while ((out.length() > 0 || in.length() < data.size()) && steps++ < 100000) {
    if (out.length() > 0) {
      const ssize_t w = out.write_to(a.fd);
      ASSERT_TRUE(w > 0 || (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) << errno;
    }
    const ssize_t r = in.read_from(b.fd, 256 * 1024);
    ASSERT_TRUE(r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) << errno;
  }
  ASSERT_EQ(in.length(), data.size());
  EXPECT_EQ(in.to_string(), data);
  EXPECT_EQ(out.block_count(), 0u);
}

TEST(BufferIoTest, PartialWriteOnFullSocketKeepsTheRest) {
  Fd a, b;
  make_socketpair(a, b);
  const std::string data = pattern(4 << 20, 4);  // far more than a socket buffer holds
  Buffer out;
  out.append(data);
  std::size_t written = 0;
  ssize_t w = 0;
  for (int i = 0; i < 10000; ++i) {
    w = out.write_to(a.fd);
    if (w < 0) break;
    written += static_cast<std::size_t>(w);
  }
  ASSERT_EQ(w, -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  EXPECT_GT(written, 0u);
  EXPECT_LT(written, data.size());
  EXPECT_EQ(out.length(), data.size() - written);
  // Drain the peer, then finish: the bytes continue exactly where the partial write stopped.
  Buffer in;
  for (int i = 0; i < 100000 && in.length() < data.size(); ++i) {
    in.read_from(b.fd);
    if (out.length() > 0) out.write_to(a.fd);
  }
  EXPECT_EQ(in.to_string(), data);
}

TEST(BufferIoTest, WriteAtMostAndManyBlocks) {
  Fd a, b;
  make_socketpair(a, b);
  // 3000 reference blocks: more than IOV_MAX, so a writev covers only part of them.
  const std::string piece = pattern(300, 5);
  Buffer out;
  for (int i = 0; i < 3000; ++i) out.add_reference(piece.data(), piece.size(), nullptr);
  EXPECT_EQ(out.write_to(a.fd, 10), 10);
  EXPECT_EQ(out.length(), 3000u * 300 - 10);
  Buffer in;
  for (int i = 0; i < 100000 && in.length() < 3000u * 300; ++i) {
    const ssize_t w = out.write_to(a.fd);
    if (w > 0) {
      EXPECT_LE(w, 1024 * 300);
    }
    in.read_from(b.fd);
  }
  ASSERT_EQ(in.length(), 3000u * 300);
  std::string expected;
  for (int i = 0; i < 3000; ++i) expected += piece;
  EXPECT_EQ(in.to_string(), expected);
}

TEST(BufferIoTest, WriteToClosedPeerIsEpipeNotSignal) {
  Fd a, b;
  make_socketpair(a, b);
  b.reset();
  Buffer out;
  out.append("nobody listens");
  errno = 0;
  EXPECT_EQ(out.write_to(a.fd), -1);  // would kill the process with SIGPIPE if not suppressed
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(out.length(), 14u);
}

TEST(BufferIoTest, WorksOnPipes) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Fd r(fds[0]), w(fds[1]);
  Buffer out;
  out.append("through a pipe");
  EXPECT_EQ(out.write_to(w.fd), 14);  // not a socket: falls back to writev
  Buffer in;
  EXPECT_EQ(in.read_from(r.fd), 14);
  EXPECT_EQ(in.to_string(), "through a pipe");
}

TEST(BufferIoTest, TcpLoopbackEchoMovesBlocks) {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(listener.fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  Fd server(::accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  ASSERT_GE(server.fd, 0);
  ASSERT_EQ(::fcntl(client.fd, F_SETFL, O_NONBLOCK), 0);

  const std::string data = pattern(1 << 20, 6);
  Buffer to_send, input, output, echoed;
  to_send.append(data);
  std::size_t largest_read = 0;
  for (int i = 0; i < 200000 && echoed.length() < data.size(); ++i) {
    if (to_send.length() > 0) to_send.write_to(client.fd);
    const ssize_t r = input.read_from(server.fd);
    if (r > 0) largest_read = std::max(largest_read, static_cast<std::size_t>(r));
    output.append_buffer(input);  // the echo path: no byte copied
    if (output.length() > 0) output.write_to(server.fd);
    echoed.read_from(client.fd);
  }
  EXPECT_EQ(echoed.to_string(), data);
  EXPECT_GT(largest_read, 4096u);
  EXPECT_EQ(input.block_count(), 0u);
  EXPECT_EQ(output.block_count(), 0u);
}

}  // namespace
}  // namespace reactor
