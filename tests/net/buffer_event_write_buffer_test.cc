// BufferEvent::write_buffer (bufferevent_write_buffer) with an empty output sends straight from
// the caller's buffer and moves to the output only what the socket did not take (issue #19: an
// echo no longer appends its input into the output and sends it back out). What a caller sees
// is what append + send gave: the bytes in order, the byte counter, the write callback, and an
// output length callback that sees every byte. Over real loopback TCP, on both backends.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <string>

#include "net_test_support.h"
#include "reactor/buffer.h"
#include "reactor/buffer_event.h"

namespace {

using namespace reactor;
using reactord::test_support::BackendTest;
using reactord::test_support::Peer;
using reactord::test_support::run_until;
using reactord::test_support::tcp_pair;

// Counts the write callbacks.
struct Writes : BufferEventHandler {
  virtual ~Writes() = default;
  int writes = 0;
  void on_read(BufferEvent&) override {}
  void on_write(BufferEvent&) override { ++writes; }
  void on_event(BufferEvent&, BevFlags, int) override {}
};

// Bytes that say where they are: a reordering or a lost piece shows.
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

class BufferEventWriteBufferTest : public BackendTest {
 protected:
  BufferEventWriteBufferTest() {
    auto pair = tcp_pair();
    bev_ = std::make_unique<BufferEvent>(base_, pair.server.release(), kBevOptCloseOnFree);
    peer_ = std::make_unique<Peer>(base_, std::move(pair.client));
  }

  std::unique_ptr<BufferEvent> bev_;
  std::unique_ptr<Peer> peer_;
};

// The socket takes it all: the caller's buffer is emptied, the output never held a byte, the
// counter and the peer have every byte.
TEST_P(BufferEventWriteBufferTest, AnEmptyOutputSendsStraightFromTheCallersBuffer) {
  const std::string msg = pattern(3000);
  Buffer data;
  data.append(msg);
  bev_->write_buffer(data);
  EXPECT_TRUE(data.empty());
  EXPECT_TRUE(bev_->output().empty());
  EXPECT_EQ(bev_->bytes_written(), msg.size());
  EXPECT_EQ(bev_->write_event_id(), 0u) << "nothing had to wait: no write event";
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() >= msg.size(); }));
  EXPECT_EQ(peer_->received(), msg);
}

// More than the socket takes at once (a small send buffer, a peer that does not read yet): the
// rest waits in the output, is sent as the peer reads, and every byte arrives in order.
TEST_P(BufferEventWriteBufferTest, WhatTheSocketDoesNotTakeWaitsInTheOutput) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  Writes writes;
  bev_->setcb(&writes, kBevCbWrite);
  const std::string msg = pattern(4 * 1024 * 1024);
  Buffer data;
  data.append(msg);
  bev_->write_buffer(data);
  EXPECT_TRUE(data.empty());
  const std::size_t sent = bev_->bytes_written();
  ASSERT_LT(sent, msg.size()) << "the socket took 4 MiB at once: the test could not fill it";
  EXPECT_EQ(bev_->output().length(), msg.size() - sent);
  // Appended after the rest: it goes after it.
  Buffer more;
  more.append("tail");
  bev_->write_buffer(more);
  EXPECT_TRUE(more.empty());
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() >= msg.size() + 4; }));
  EXPECT_EQ(peer_->received(), msg + "tail");
  EXPECT_EQ(bev_->bytes_written(), msg.size() + 4);
  EXPECT_TRUE(bev_->output().empty());
  EXPECT_GE(writes.writes, 1) << "the output drained: the write callback ran";
}

// Sent at once: the write callback still hears that the output drained, from the loop (as a
// write() sent at once does).
TEST_P(BufferEventWriteBufferTest, ADrainAtOnceStillRunsTheWriteCallback) {
  Writes writes;
  bev_->setcb(&writes, kBevCbWrite);
  Buffer data;
  data.append(pattern(100));
  bev_->write_buffer(data);
  EXPECT_EQ(bev_->bytes_written(), 100u);
  EXPECT_EQ(writes.writes, 0) << "never from inside write_buffer";
  ASSERT_TRUE(run_until(base_, [&] { return writes.writes > 0; }));
  EXPECT_EQ(writes.writes, 1);
}

// An output with a length callback sees the bytes go in and out, as before.
TEST_P(BufferEventWriteBufferTest, AnOutputLengthCallbackSeesEveryByte) {
  std::size_t added = 0;
  std::size_t deleted = 0;
  bev_->output().set_length_callback([&](std::size_t, std::size_t a, std::size_t d) {
    added += a;
    deleted += d;
  });
  const std::string msg = pattern(500);
  Buffer data;
  data.append(msg);
  bev_->write_buffer(data);
  EXPECT_TRUE(data.empty());
  EXPECT_EQ(added, msg.size());
  EXPECT_EQ(deleted, msg.size());
  EXPECT_EQ(bev_->bytes_written(), msg.size());
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() >= msg.size(); }));
  EXPECT_EQ(peer_->received(), msg);
  bev_->output().set_length_callback({});
}

// Writing disabled: nothing is sent, the bytes wait in the output until it is enabled.
TEST_P(BufferEventWriteBufferTest, WritingDisabledKeepsTheBytesInTheOutput) {
  bev_->disable(kWrite);
  const std::string msg = pattern(200);
  Buffer data;
  data.append(msg);
  bev_->write_buffer(data);
  EXPECT_TRUE(data.empty());
  EXPECT_EQ(bev_->output().length(), msg.size());
  EXPECT_EQ(bev_->bytes_written(), 0u);
  bev_->enable(kWrite);
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() >= msg.size(); }));
  EXPECT_EQ(peer_->received(), msg);
}

REACTORD_BACKEND_SUITE(BufferEventWriteBufferTest);

}  // namespace
