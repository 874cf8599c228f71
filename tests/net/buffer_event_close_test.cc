// BufferEvent end of life: peer half-close, peer reset, graceful close (clean and at the
// deadline), abortive close, and what CLOSE_ON_FREE does with the fd.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "net_test_support.h"
#include "reactor/buffer_event.h"

namespace {

using namespace reactor;
using reactord::test_support::Peer;
using reactord::test_support::run_until;

class BufferEventCloseTest : public reactord::test_support::BackendTest {
 protected:
  BufferEventCloseTest() {
    auto pair = reactord::test_support::tcp_pair();
    peer_ = std::make_unique<Peer>(base_, std::move(pair.client));
    bev_ = std::make_unique<BufferEvent>(base_, pair.server.release(), kBevOptCloseOnFree);
    bev_->setcb({}, {}, [this](BufferEvent&, BevFlags w, int e) {
      what_ = w;
      error_ = e;
      ++events_;
    });
  }

  static std::string numbered(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
  }

  std::unique_ptr<Peer> peer_;
  std::unique_ptr<BufferEvent> bev_;
  BevFlags what_{};
  int error_ = 0;
  int events_ = 0;
};

TEST_P(BufferEventCloseTest, PeerHalfCloseGivesEofAndPendingOutputIsStillFlushed) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  const std::string data = numbered(512 * 1024);
  bev_->write(data);
  ASSERT_FALSE(bev_->output().empty());
  bev_->enable(kRead);
  peer_->shutdown_write();
  ASSERT_TRUE(run_until(base_, [&] { return events_ > 0; }));
  EXPECT_EQ(what_, kBevEof | kBevReading);
  EXPECT_EQ(bev_->enabled() & kRead, EventFlags{});
  bev_->write("+tail");  // writing after the peer's EOF still works
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() == data.size() + 5; }));
  EXPECT_TRUE(peer_->received() == data + "+tail");
  EXPECT_EQ(events_, 1);
  EXPECT_FALSE(bev_->closed());
}

TEST_P(BufferEventCloseTest, PeerResetGivesErrorConnReset) {
  bev_->enable(kRead);
  reactord::test_support::reset_close(peer_->owned_fd());
  ASSERT_TRUE(run_until(base_, [&] { return events_ > 0; }));
  EXPECT_EQ(what_, kBevError | kBevReading);
  EXPECT_EQ(error_, ECONNRESET);
}

TEST_P(BufferEventCloseTest, WriteToAResetPeerGivesErrorNotSigpipe) {
  reactord::test_support::reset_close(peer_->owned_fd());
  // The first send may still succeed; keep writing until the error comes back.
  ASSERT_TRUE(run_until(base_, [&] {
    if (events_ == 0) bev_->write("ping");
    return events_ > 0;
  }));
  EXPECT_EQ(what_, kBevError | kBevWriting);
  EXPECT_TRUE(error_ == EPIPE || error_ == ECONNRESET) << error_;
}

TEST_P(BufferEventCloseTest, GracefulCloseDeliversEverythingWrittenBeforeIt) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  const std::string data = numbered(1 << 20);
  bev_->write(data);
  int done_calls = 0;
  bool clean = false;
  bev_->close_gracefully(std::chrono::seconds(20), [&](bool c) {
    ++done_calls;
    clean = c;
  });
  bev_->write("!");  // still before the shutdown: delivered too
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->eof(); }));
  EXPECT_TRUE(peer_->received() == data + "!");
  EXPECT_EQ(done_calls, 0);  // waits for the peer's EOF
  EXPECT_FALSE(bev_->closed());
  peer_->shutdown_write();
  ASSERT_TRUE(run_until(base_, [&] { return done_calls > 0; }));
  EXPECT_TRUE(clean);
  EXPECT_TRUE(bev_->closed());
  EXPECT_EQ(bev_->fd(), -1);
  EXPECT_EQ(events_, 0);  // no user callbacks during a graceful close
  EXPECT_EQ(bev_->bytes_written(), data.size() + 1);
}

TEST_P(BufferEventCloseTest, GracefulCloseAbortsAtTheDeadline) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  bev_->write(numbered(1 << 20));  // the peer never reads it
  bool called = false;
  bool clean = true;
  bev_->close_gracefully(std::chrono::milliseconds(30), [&](bool c) {
    called = true;
    clean = c;
  });
  ASSERT_TRUE(run_until(base_, [&] { return called; }));
  EXPECT_FALSE(clean);
  EXPECT_TRUE(bev_->closed());
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->error() != 0 || peer_->eof(); }));
  EXPECT_EQ(peer_->error(), ECONNRESET);
}

TEST_P(BufferEventCloseTest, AbortiveCloseMakesThePeerSeeAReset) {
  bev_->write("lost?");
  bev_->close_abortively();
  EXPECT_TRUE(bev_->closed());
  EXPECT_EQ(bev_->fd(), -1);
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->error() != 0 || peer_->eof(); }));
  EXPECT_EQ(peer_->error(), ECONNRESET);
  bev_->write("after close");  // ignored, no crash
  bev_->enable(kRead | kWrite);
  EXPECT_TRUE(bev_->output().empty());
}

TEST_P(BufferEventCloseTest, AbortiveCloseDuringAGracefulCloseReportsNotClean) {
  int done_calls = 0;
  bool clean = true;
  bev_->close_gracefully(std::chrono::seconds(20), [&](bool c) {
    ++done_calls;
    clean = c;
  });
  bev_->close_abortively();
  EXPECT_EQ(done_calls, 1);
  EXPECT_FALSE(clean);
  reactord::test_support::step(base_, 3);
  EXPECT_EQ(done_calls, 1);
}

TEST_P(BufferEventCloseTest, GracefulCloseFromTheEofCallbackFlushesTheReply) {
  // The server's pattern: on the peer's EOF, answer and close gracefully from the callback.
  bool clean = false;
  int done_calls = 0;
  bev_->setcb({}, {}, [&](BufferEvent& b, BevFlags w, int) {
    what_ = w;
    b.write("bye");
    b.close_gracefully(std::chrono::seconds(20), [&](bool c) {
      ++done_calls;
      clean = c;
    });
  });
  bev_->enable(kRead);
  peer_->start_reading();
  peer_->shutdown_write();
  ASSERT_TRUE(run_until(base_, [&] { return done_calls > 0; }));
  EXPECT_EQ(what_, kBevEof | kBevReading);
  EXPECT_TRUE(clean);
  ASSERT_TRUE(run_until(base_, [&] { return peer_->eof(); }));
  EXPECT_EQ(peer_->received(), "bye");
  EXPECT_EQ(done_calls, 1);
}

TEST_P(BufferEventCloseTest, CloseOnFreeDecidesWhoClosesTheFd) {
  auto pair = reactord::test_support::tcp_pair();
  const int kept = pair.server.get();
  { BufferEvent borrowed(base_, kept, 0); }
  EXPECT_EQ(::fcntl(kept, F_GETFD), FD_CLOEXEC);  // still open
  const int owned = pair.server.release();
  { BufferEvent owner(base_, owned, kBevOptCloseOnFree); }
  EXPECT_EQ(::fcntl(owned, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

REACTORD_BACKEND_SUITE(BufferEventCloseTest);

}  // namespace
