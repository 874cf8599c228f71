// A BufferEvent's read lends the thread's spare read block to its input (issue #19,
// reactor/src/buffer_internals.h): no copy and no allocation per message. The echo sends the
// block on and frees it, and it is the thread's spare again; whatever a callback leaves of it
// in the BufferEvent's buffers is compacted to its data's size after the callback, so a
// connection keeps no mostly empty 64 KiB block. Over real loopback TCP, on both backends.
//
// The allocation count comes from a malloc interposed in this test binary (glibc's
// __libc_malloc behind it), counting on the test's thread inside a window. Under ASan/TSan the
// sanitizer owns malloc: no interposition there, and the counting test is skipped (the
// memory-shape tests still run).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "net_test_support.h"
#include "reactor/buffer_event.h"
#include "reactor/sanitizer_build.h"

#if REACTOR_ASAN_BUILD || REACTOR_TSAN_BUILD
#define REACTORD_TEST_COUNTS_MALLOC 0
#else
#define REACTORD_TEST_COUNTS_MALLOC 1
#endif

#if REACTORD_TEST_COUNTS_MALLOC
extern "C" void* __libc_malloc(std::size_t size);
extern "C" void* __libc_calloc(std::size_t count, std::size_t size);
extern "C" void* __libc_realloc(void* p, std::size_t size);
extern "C" void* __libc_memalign(std::size_t alignment, std::size_t size);

namespace {
// Constant-initialised, trivially destructible: read without a TLS wrapper (and so without
// allocating) from inside malloc.
constinit thread_local bool t_counting = false;
constinit thread_local long t_allocations = 0;
}  // namespace

extern "C" void* malloc(std::size_t size) {
  if (t_counting) ++t_allocations;
  return __libc_malloc(size);
}
extern "C" void* calloc(std::size_t count, std::size_t size) {
  if (t_counting) ++t_allocations;
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* p, std::size_t size) {
  if (t_counting) ++t_allocations;
  return __libc_realloc(p, size);
}
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) {
  if (t_counting) ++t_allocations;
  return __libc_memalign(alignment, size);
}
#endif

namespace {

using namespace reactor;
using reactord::test_support::BackendTest;
using reactord::test_support::tcp_pair;
using reactord::test_support::TcpPair;

constexpr std::size_t kSpareBytes = 64 * 1024;  // the thread's spare read block's storage

// The echo, as reactord does it: the input's blocks move to the output and are sent at once.
// An object handler (no std::function copies). Records what the input held during the callback.
struct Echo : BufferEventHandler {
  virtual ~Echo() = default;
  bool echo = true;
  std::size_t input_block_memory = 0;
  std::size_t reads = 0;
  void on_read(BufferEvent& bev) override {
    ++reads;
    input_block_memory = bev.input().block_memory();
    if (echo) bev.write_buffer(bev.input());
  }
  void on_write(BufferEvent&) override {}
  void on_event(BufferEvent&, BevFlags, int) override {}
};

class BufferEventLendingTest : public BackendTest {
 protected:
  BufferEventLendingTest() : pair_(tcp_pair()) {
    bev_ = std::make_unique<BufferEvent>(base_, pair_.server.release(), kBevOptCloseOnFree);
    bev_->setcb(&echo_, kBevCbRead);
    bev_->enable(kRead);
  }

  // Sends `size` bytes from the client and steps the loop until the echo of them arrived (or
  // the bounded steps run out). Allocates nothing itself: a fixed buffer, raw system calls.
  std::size_t round_trip(std::size_t size) {
    static char out[4096];
    static char in[4096];
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (sent_ + i) % 26);
    sent_ += size;
    if (::send(pair_.client.get(), out, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) return 0;
    std::size_t got = 0;
    for (int i = 0; i < 2000 && got < size; ++i) {
      base_.loop(kLoopNonblock);
      pollfd p{pair_.client.get(), POLLIN, 0};
      ::poll(&p, 1, 5);
      const ssize_t r = ::recv(pair_.client.get(), in + got, size - got, MSG_DONTWAIT);
      if (r > 0) got += static_cast<std::size_t>(r);
    }
    return got;
  }

  TcpPair pair_;
  Echo echo_;
  std::unique_ptr<BufferEvent> bev_;
  std::size_t sent_ = 0;
};

// The read hands the thread's spare block over whole: the 64-byte message is in a block of
// the spare's size while the read callback runs (nothing was copied into a block of its size).
TEST_P(BufferEventLendingTest, ASmallReadArrivesInTheSpareBlockItself) {
  ASSERT_EQ(round_trip(64), 64u);
  EXPECT_GE(echo_.input_block_memory, kSpareBytes);
  EXPECT_TRUE(bev_->input().empty());
  EXPECT_TRUE(bev_->output().empty());
}

#if REACTORD_TEST_COUNTS_MALLOC
// After a warm-up, echoing messages of 64 B and 4 KiB allocates nothing at all on the loop
// thread: the block each read lends comes back as the spare when the echo has sent it.
TEST_P(BufferEventLendingTest, EchoAllocatesNothingPerMessage) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(round_trip(64), 64u);
  const std::size_t reads_before = echo_.reads;
  t_allocations = 0;
  t_counting = true;
  std::size_t echoed = 0;
  for (int i = 0; i < 200; ++i) echoed += round_trip(i % 2 == 0 ? 64 : 4096);
  t_counting = false;
  EXPECT_EQ(echoed, 100u * 64 + 100u * 4096);
  EXPECT_GE(echo_.reads - reads_before, 200u);
  EXPECT_EQ(t_allocations, 0) << "allocations while echoing 200 messages";
}
#endif

// A callback that leaves the bytes in the input: after it, the lent block is compacted to the
// size of its data, so the connection does not keep 64 KiB for 64 bytes.
TEST_P(BufferEventLendingTest, InputLeftUnreadIsCompactedAfterTheCallback) {
  echo_.echo = false;
  const char msg[64] = {'x'};
  ASSERT_EQ(::send(pair_.client.get(), msg, sizeof msg, MSG_NOSIGNAL), 64);
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return echo_.reads > 0; }));
  EXPECT_GE(echo_.input_block_memory, kSpareBytes);  // lent during the callback
  EXPECT_EQ(bev_->input().length(), 64u);
  EXPECT_LE(bev_->input().block_memory(), 1024u);  // compacted after it
  // The next read appends after it and reads on; the bytes are all there, in order.
  const std::string more(100, 'y');
  ASSERT_EQ(::send(pair_.client.get(), more.data(), more.size(), MSG_NOSIGNAL), 100);
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return bev_->input().length() == 164; }));
  EXPECT_EQ(bev_->input().to_string(), std::string(msg, sizeof msg) + more);
  EXPECT_LE(bev_->input().block_memory(), 2048u);
}

// The echo's send finds the socket full (the client reads nothing): the lent block stays in
// the output, and is compacted after the callback. The client then gets every byte.
TEST_P(BufferEventLendingTest, OutputThatCouldNotBeSentIsCompactedAfterTheCallback) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  const std::string msg(64, 'm');
  std::size_t filler = 0;
  std::size_t echoes = 0;
  // Fill the path to the client behind the BufferEvent's back (to the last 64 bytes), so that
  // its output is empty when the echo finds the socket full. The kernel may still move queued
  // bytes on and take the echo: then fill again (bounded).
  for (int attempt = 0; attempt < 20 && bev_->output().empty(); ++attempt) {
    for (const std::size_t piece : {std::size_t{4096}, std::size_t{64}}) {
      const std::string chunk(piece, 'f');
      for (int i = 0; i < 100000; ++i) {
        const ssize_t r = ::send(bev_->fd(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r <= 0) break;
        filler += static_cast<std::size_t>(r);
      }
    }
    const std::size_t reads = echo_.reads;
    ASSERT_EQ(::send(pair_.client.get(), msg.data(), msg.size(), MSG_NOSIGNAL), 64);
    ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return echo_.reads > reads; }));
    ++echoes;
  }
  ASSERT_EQ(bev_->output().length(), 64u) << "the socket took every echo: the test could not fill it";
  EXPECT_LE(bev_->output().block_memory(), 1024u);
  // The client reads the filler and the echoes, every byte (its socket in the loop, so that
  // the loop wakes for what arrives).
  reactord::test_support::Peer client(base_, std::move(pair_.client));
  client.start_reading();
  const std::string& got = client.received();
  ASSERT_TRUE(reactord::test_support::run_until(base_, [&] { return got.size() >= filler + 64 * echoes; }))
      << got.size() << " of " << filler << " + " << echoes << " x 64, output " << bev_->output().length();
  EXPECT_EQ(got.size(), filler + 64 * echoes);
  EXPECT_EQ(static_cast<std::size_t>(std::count(got.begin(), got.end(), 'm')), 64 * echoes);
  EXPECT_EQ(got.substr(got.size() - 64), msg);
  client.stop_reading();
}

REACTORD_BACKEND_SUITE(BufferEventLendingTest);

}  // namespace
