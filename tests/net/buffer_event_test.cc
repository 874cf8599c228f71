// BufferEvent over loopback TCP: the write-at-once path, reading, watermarks, timeouts, owner
// tags, deferred callbacks, and callbacks that change the BufferEvent under the handler.
#include "reactor/buffer_event.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <type_traits>

#include "net_test_support.h"

namespace {

using namespace reactor;
using reactord::test_support::Peer;
using reactord::test_support::run_until;
using reactord::test_support::step;

class BufferEventTest : public reactord::test_support::BackendTest {
 protected:
  BufferEventTest() {
    auto pair = reactord::test_support::tcp_pair();
    peer_ = std::make_unique<Peer>(base_, std::move(pair.client));
    bev_ = std::make_unique<BufferEvent>(base_, pair.server.release(), kBevOptCloseOnFree);
  }

  // By value: the snapshot may be a temporary.
  std::optional<EventInfo> find_event(const std::vector<EventInfo>& events, const char* label) {
    for (const auto& e : events) {
      if (e.label == label && e.owner == 77) return e;
    }
    return std::nullopt;
  }

  std::unique_ptr<Peer> peer_;
  std::unique_ptr<BufferEvent> bev_;
  BevFlags what_{};
  int error_ = 0;
  int read_calls_ = 0;
  int write_calls_ = 0;
};

TEST_P(BufferEventTest, WriteAtOnceReachesTheSocketBeforeTheLoopRuns) {
  bev_->set_owner(77);
  bev_->write("hello");
  char buf[16];
  const ssize_t n = ::recv(peer_->fd(), buf, sizeof(buf), MSG_DONTWAIT);
  ASSERT_EQ(n, 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_TRUE(bev_->output().empty());
  EXPECT_EQ(bev_->bytes_written(), 5u);
  // No write interest was armed for it: no pending "bev.write" event.
  const auto events = base_.snapshot();
  const auto w = find_event(events, "bev.write");
  EXPECT_TRUE(!w || w->state == EventState::kInitialized);
}

TEST_P(BufferEventTest, ReadCallbackGetsDataAndCountersMove) {
  std::string got;
  bev_->setcb(
      [&](BufferEvent& b) {
        got += b.input().to_string();
        b.input().drain(b.input().length());
      },
      {}, {});
  EXPECT_EQ(bev_->enabled(), kWrite);  // libevent's default: reading off
  bev_->enable(kRead);
  ASSERT_EQ(peer_->send("abc"), 3u);
  ASSERT_TRUE(run_until(base_, [&] { return got == "abc"; }));
  EXPECT_EQ(bev_->bytes_read(), 3u);
  EXPECT_GE(bev_->last_read_at(), bev_->created_at());
  bev_->disable(kRead);
  ASSERT_EQ(peer_->send("def"), 3u);
  step(base_, 5);
  EXPECT_EQ(got, "abc");  // disabled: nothing read
  bev_->enable(kRead);
  ASSERT_TRUE(run_until(base_, [&] { return got == "abcdef"; }));
}

TEST_P(BufferEventTest, OwnerTagIsVisibleInTheSnapshot) {
  bev_->set_owner(77);
  bev_->enable(kRead);
  const std::uint64_t read_id = bev_->read_event_id();
  EXPECT_NE(read_id, 0u);
  EXPECT_EQ(bev_->write_event_id(), 0u);  // not made until output has to wait
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  bev_->write(std::string(1 << 20, 'z'));  // the peer does not read: output waits
  const std::uint64_t write_id = bev_->write_event_id();
  EXPECT_NE(write_id, 0u);
  EXPECT_NE(read_id, write_id);
  const auto events = base_.snapshot();
  const auto r = find_event(events, "bev.read");
  const auto w = find_event(events, "bev.write");
  ASSERT_TRUE(r);
  ASSERT_TRUE(w);
  EXPECT_EQ(r->id, read_id);
  EXPECT_EQ(w->id, write_id);
  EXPECT_EQ(r->fd, bev_->fd());
  EXPECT_EQ(r->state, EventState::kPending);
  EXPECT_EQ(w->state, EventState::kPending);
  EXPECT_EQ(w->fd, bev_->fd());
  // The peer reads everything: write interest goes away with the output.
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() == (1u << 20); }));
  const auto after = find_event(base_.snapshot(), "bev.write");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->state, EventState::kInitialized);
}

// The owner is kept once per BufferEvent (issue #19): set after its events exist, or changed,
// every one of them shows the new owner; events of another BufferEvent keep theirs.
TEST_P(BufferEventTest, OwnerSetLaterReachesEveryEvent) {
  bev_->enable(kRead);
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  bev_->write(std::string(1 << 20, 'z'));  // the write event exists and waits
  auto other_pair = reactord::test_support::tcp_pair();
  BufferEvent other(base_, other_pair.server.release(), kBevOptCloseOnFree);
  other.set_owner(5);
  other.enable(kRead);
  bev_->set_owner(77);
  auto events = base_.snapshot();
  ASSERT_TRUE(find_event(events, "bev.read"));
  ASSERT_TRUE(find_event(events, "bev.write"));
  bev_->set_owner(78);
  events = base_.snapshot();
  int ours = 0;
  for (const auto& e : events) {
    if (e.owner == 78) ++ours;
    if (e.id == other.read_event_id()) {
      EXPECT_EQ(e.owner, 5u);
      EXPECT_EQ(e.label, "bev.read");
    }
  }
  EXPECT_EQ(ours, 2);
  EXPECT_FALSE(find_event(events, "bev.read"));  // 77 is gone from every event
}

TEST_P(BufferEventTest, WriteCallbackFollowsAnImmediateSendLaterInTheIteration) {
  bev_->setcb({},
              [&](BufferEvent& b) {
                ++write_calls_;
                EXPECT_TRUE(b.output().empty());
              },
              {});
  bev_->write("x");            // sent at once
  EXPECT_EQ(write_calls_, 0);  // never from inside write()
  ASSERT_TRUE(run_until(base_, [&] { return write_calls_ == 1; }));
  // A write that never takes the output above the low watermark costs no callback.
  bev_->set_write_low_watermark(1000);
  bev_->write("y");
  reactord::test_support::step(base_, 5);
  EXPECT_EQ(write_calls_, 1);
  char buf[4];
  EXPECT_EQ(::recv(peer_->fd(), buf, sizeof(buf), MSG_DONTWAIT), 2);
}

TEST_P(BufferEventTest, ReadHighWatermarkStopsAndResumesReading) {
  constexpr std::size_t kHigh = 4096;
  bev_->set_read_watermarks(0, kHigh);
  bev_->setcb([&](BufferEvent&) { ++read_calls_; }, {}, {});  // does not drain
  bev_->enable(kRead);
  const std::string data(60000, 'w');
  ASSERT_EQ(peer_->send(data), data.size());
  ASSERT_TRUE(run_until(base_, [&] { return bev_->read_suspended_by_watermark(); }));
  EXPECT_EQ(bev_->input().length(), kHigh);
  // What an observer holding a const BufferEvent reads: the same buffers, read-only.
  const BufferEvent& observed = *bev_;
  static_assert(std::is_same_v<decltype(observed.input()), const Buffer&>);
  EXPECT_EQ(&observed.input(), &bev_->input());
  EXPECT_EQ(observed.input().length(), kHigh);
  EXPECT_TRUE(observed.output().empty());
  const std::uint64_t before = bev_->bytes_read();
  step(base_, 20);
  EXPECT_EQ(bev_->bytes_read(), before);  // no reads from the socket while at the mark
  // Draining one byte resumes reading; it stops again at the mark.
  bev_->input().drain(1);
  EXPECT_FALSE(bev_->read_suspended_by_watermark());
  ASSERT_TRUE(run_until(base_, [&] { return bev_->read_suspended_by_watermark(); }));
  EXPECT_EQ(bev_->bytes_read(), before + 1);
  // Drain everything from the read callback from now on: all the data arrives.
  bev_->setcb([&](BufferEvent& b) { b.input().drain(b.input().length()); }, {}, {});
  bev_->input().drain(bev_->input().length());
  ASSERT_TRUE(run_until(base_, [&] { return bev_->bytes_read() == data.size(); }));
  EXPECT_TRUE(bev_->input().empty());
  EXPECT_FALSE(bev_->read_suspended_by_watermark());
}

TEST_P(BufferEventTest, ReadLowWatermarkDelaysTheReadCallback) {
  std::size_t seen = 0;
  bev_->set_read_watermarks(100, 0);
  bev_->setcb(
      [&](BufferEvent& b) {
        ++read_calls_;
        seen = b.input().length();
      },
      {}, {});
  bev_->enable(kRead);
  ASSERT_EQ(peer_->send(std::string(50, 'a')), 50u);
  ASSERT_TRUE(run_until(base_, [&] { return bev_->bytes_read() == 50; }));
  step(base_, 3);
  EXPECT_EQ(read_calls_, 0);
  ASSERT_EQ(peer_->send(std::string(60, 'b')), 60u);
  ASSERT_TRUE(run_until(base_, [&] { return read_calls_ == 1; }));
  EXPECT_EQ(seen, 110u);
}

TEST_P(BufferEventTest, WriteLowWatermarkRunsTheWriteCallbackWhenOutputDrains) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  constexpr std::size_t kLow = 16 * 1024;
  constexpr std::size_t kTotal = 512 * 1024;
  std::size_t output_at_call = SIZE_MAX;
  bev_->set_write_low_watermark(kLow);
  EXPECT_EQ(bev_->write_low_watermark(), kLow);
  bev_->setcb({},
              [&](BufferEvent& b) {
                if (write_calls_++ == 0) output_at_call = b.output().length();
              },
              {});
  bev_->write(std::string(kTotal, 'x'));
  ASSERT_GT(bev_->output().length(), kLow);  // the socket took only part of it
  step(base_, 10);
  EXPECT_EQ(write_calls_, 0);  // the peer reads nothing: output stays above the mark
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return write_calls_ > 0; }));
  EXPECT_LE(output_at_call, kLow);
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received().size() == kTotal; }));
  EXPECT_EQ(bev_->bytes_written(), kTotal);
}

TEST_P(BufferEventTest, ReadTimeoutFiresAndDisablesReading) {
  bev_->setcb({}, {}, [&](BufferEvent&, BevFlags what, int error) {
    what_ = what;
    error_ = error;
  });
  bev_->set_timeouts(std::chrono::milliseconds(30), std::nullopt);
  bev_->enable(kRead);
  const auto start = Clock::now();
  ASSERT_TRUE(run_until(base_, [&] { return any(what_); }));
  EXPECT_EQ(what_, kBevTimeout | kBevReading);
  EXPECT_EQ(error_, 0);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(25));
  EXPECT_EQ(bev_->enabled() & kRead, EventFlags{});
}

TEST_P(BufferEventTest, ReadTimeoutRestartsWhileDataKeepsArriving) {
  // Bytes every 10 ms for 600 ms under a 250 ms read timeout: a timeout that did not restart
  // would fire mid-way; the margin (25 ticks) absorbs a loaded CI machine.
  std::string got;
  bev_->setcb(
      [&](BufferEvent& b) {
        got += b.input().to_string();
        b.input().drain(1 << 20);
      },
      {}, [&](BufferEvent&, BevFlags what, int) { what_ = what; });
  bev_->set_timeouts(std::chrono::milliseconds(250), std::nullopt);
  bev_->enable(kRead);
  int sent = 0;
  std::unique_ptr<Event> ticker;
  ticker = Event::timer(base_, [&](int, EventFlags) {
    peer_->send("t");
    if (++sent < 60) ticker->add(std::chrono::milliseconds(10));
  });
  ticker->add(std::chrono::milliseconds(10));
  ASSERT_TRUE(run_until(
      base_, [&] { return any(what_); }, std::chrono::seconds(10)));
  EXPECT_EQ(what_, kBevTimeout | kBevReading);
  EXPECT_EQ(sent, 60);  // the timeout came only after the last byte (~850 ms in)
  EXPECT_EQ(got, std::string(60, 't'));
}

// The read event has no timer part (issue #19: 32 bytes less per connection); a read timeout
// is a timer of its own, listed with the same owner, armed and removed with reading.
TEST_P(BufferEventTest, ReadTimeoutIsATimerOfItsOwnListedWithTheOwner) {
  bev_->set_owner(77);
  bev_->set_timeouts(std::chrono::seconds(100), std::nullopt);
  bev_->enable(kRead);
  auto events = base_.snapshot();
  auto read = find_event(events, "bev.read");
  auto timer = find_event(events, "bev.read_timeout");
  ASSERT_TRUE(read);
  ASSERT_TRUE(timer);
  EXPECT_EQ(read->owner, 77u);
  EXPECT_EQ(read->state, EventState::kPending);
  EXPECT_FALSE(read->time_left.has_value());
  EXPECT_EQ(timer->owner, 77u);
  EXPECT_EQ(timer->state, EventState::kPending);
  ASSERT_TRUE(timer->time_left.has_value());
  EXPECT_LE(*timer->time_left, std::chrono::seconds(100));
  EXPECT_NE(timer->id, bev_->read_event_id());
  // Reading off: both go; back on without a timeout: the read event alone.
  bev_->disable(kRead);
  events = base_.snapshot();
  EXPECT_EQ(find_event(events, "bev.read").value().state, EventState::kInitialized);
  EXPECT_EQ(find_event(events, "bev.read_timeout").value().state, EventState::kInitialized);
  bev_->set_timeouts(std::nullopt, std::nullopt);
  bev_->enable(kRead);
  events = base_.snapshot();
  EXPECT_EQ(find_event(events, "bev.read").value().state, EventState::kPending);
  EXPECT_EQ(find_event(events, "bev.read_timeout").value().state, EventState::kInitialized);
  // A timeout set while reading takes effect at once.
  bev_->set_timeouts(std::chrono::seconds(100), std::nullopt);
  EXPECT_EQ(find_event(base_.snapshot(), "bev.read_timeout").value().state, EventState::kPending);
}

TEST_P(BufferEventTest, DisableInsideTheReadCallbackStopsReading) {
  bev_->setcb(
      [&](BufferEvent& b) {
        ++read_calls_;
        b.disable(kRead);
      },
      {}, {});
  bev_->enable(kRead);
  ASSERT_EQ(peer_->send("first"), 5u);
  ASSERT_TRUE(run_until(base_, [&] { return read_calls_ == 1; }));
  ASSERT_EQ(peer_->send("second"), 6u);
  reactord::test_support::step(base_, 5);
  EXPECT_EQ(read_calls_, 1);
  EXPECT_EQ(bev_->input().to_string(), "first");
  bev_->enable(kRead);
  ASSERT_TRUE(run_until(base_, [&] { return read_calls_ == 2; }));
  EXPECT_EQ(bev_->input().to_string(), "firstsecond");
}

TEST_P(BufferEventTest, WriteTimeoutFiresWhenOutputMakesNoProgress) {
  reactord::test_support::shrink_send_buffer(bev_->fd(), 4096);
  bev_->setcb({}, {}, [&](BufferEvent&, BevFlags what, int error) {
    what_ = what;
    error_ = error;
  });
  bev_->set_timeouts(std::nullopt, std::chrono::milliseconds(30));
  bev_->write(std::string(1 << 20, 'x'));
  ASSERT_FALSE(bev_->output().empty());
  ASSERT_TRUE(run_until(base_, [&] { return any(what_); }));
  EXPECT_EQ(what_, kBevTimeout | kBevWriting);
  EXPECT_EQ(bev_->enabled() & kWrite, EventFlags{});
}

TEST_P(BufferEventTest, SetcbInsideTheReadCallbackIsSafe) {
  std::string first;
  std::string second;
  const std::string big_capture(200, 'c');  // forces the std::function onto the heap
  bev_->setcb(
      [&, big_capture](BufferEvent& b) {
        if (big_capture.size() != 200) return;
        first += b.input().to_string();
        b.input().drain(b.input().length());
        b.setcb(
            [&](BufferEvent& b2) {
              second += b2.input().to_string();
              b2.input().drain(b2.input().length());
            },
            {}, {});
      },
      {}, {});
  bev_->enable(kRead);
  ASSERT_EQ(peer_->send("one"), 3u);
  ASSERT_TRUE(run_until(base_, [&] { return first == "one"; }));
  ASSERT_EQ(peer_->send("two"), 3u);
  ASSERT_TRUE(run_until(base_, [&] { return second == "two"; }));
  EXPECT_EQ(first, "one");
}

// The object form of setcb: only the callbacks named in `which` run; replacing the handler
// from inside its own callback switches at once; function callbacks can take over again.
struct EchoHandler final : BufferEventHandler {
  void on_read(BufferEvent& b) override {
    ++reads;
    b.output().append_buffer(b.input());
    b.flush_output();
    if (replace_with != nullptr) b.setcb(replace_with, kBevCbRead | kBevCbEvent);
  }
  void on_write(BufferEvent&) override { ++writes; }
  void on_event(BufferEvent&, BevFlags what, int) override { events |= what; }
  int reads = 0;
  int writes = 0;
  BevFlags events{};
  BufferEventHandler* replace_with = nullptr;
};

TEST_P(BufferEventTest, HandlerObjectGetsOnlyTheCallbacksItAsksFor) {
  EchoHandler first;
  EchoHandler second;
  first.replace_with = &second;
  bev_->setcb(&first, kBevCbRead | kBevCbEvent);  // no write callback
  bev_->enable(kRead);
  peer_->start_reading();
  ASSERT_EQ(peer_->send("ping"), 4u);
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received() == "ping"; }));
  EXPECT_EQ(first.reads, 1);
  EXPECT_EQ(first.writes, 0);  // not asked for, although the output drained
  // first replaced itself with second inside on_read: the next read goes to second.
  ASSERT_EQ(peer_->send("pong"), 4u);
  ASSERT_TRUE(run_until(base_, [&] { return peer_->received() == "pingpong"; }));
  EXPECT_EQ(first.reads, 1);
  EXPECT_EQ(second.reads, 1);
  // Back to functions, then to nothing.
  std::string got;
  bev_->setcb(
      [&](BufferEvent& b) {
        got += b.input().to_string();
        b.input().drain(b.input().length());
      },
      {}, {});
  ASSERT_EQ(peer_->send("fn"), 2u);
  ASSERT_TRUE(run_until(base_, [&] { return got == "fn"; }));
  EXPECT_EQ(second.reads, 1);
  bev_->setcb(static_cast<BufferEventHandler*>(nullptr), kBevCbRead);
  ASSERT_EQ(peer_->send("x"), 1u);
  ASSERT_TRUE(run_until(base_, [&] { return bev_->input().length() == 1; }));
  EXPECT_EQ(got, "fn");
  // The event callback reaches the handler: the peer closes.
  bev_->input().drain(1);
  bev_->setcb(&second, kBevCbEvent);
  peer_->shutdown_write();
  ASSERT_TRUE(run_until(base_, [&] { return any(second.events & kBevEof); }));
  EXPECT_NE(second.events & kBevReading, BevFlags{});
  EXPECT_EQ(second.reads, 1);
}

TEST_P(BufferEventTest, AbortiveCloseInsideTheReadCallbackIsSafe) {
  int events = 0;
  bev_->setcb(
      [&](BufferEvent& b) {
        ++read_calls_;
        b.close_abortively();
      },
      {}, [&](BufferEvent&, BevFlags, int) { ++events; });
  bev_->enable(kRead);
  ASSERT_EQ(peer_->send("data"), 4u);
  peer_->shutdown_write();  // an EOF right behind the data
  peer_->start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return peer_->error() != 0 || peer_->eof(); }));
  EXPECT_EQ(peer_->error(), ECONNRESET);
  step(base_, 5);
  EXPECT_EQ(read_calls_, 1);
  EXPECT_EQ(events, 0);  // closed: no EOF callback afterwards
  EXPECT_TRUE(bev_->closed());
  EXPECT_EQ(bev_->fd(), -1);
}

REACTORD_BACKEND_SUITE(BufferEventTest);

}  // namespace
