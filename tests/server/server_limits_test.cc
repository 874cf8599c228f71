// Limits in-process: --max-connections, --idle-timeout, backpressure (--max-output-buffer),
// and drain / resume.
#include <gtest/gtest.h>

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <atomic>
#include <cstring>

#include "server/connection.h"
#include "server/connection_registry.h"
#include "server_fixture.h"

namespace reactord::test_support {
namespace {

std::uint64_t closed(Server& s, CloseReason reason, std::size_t loop = 0) {
  return s.loop(loop).counters().closed[static_cast<std::size_t>(reason)].get();
}
std::uint64_t rejected(Server& s, RejectReason reason, std::size_t loop = 0) {
  return s.loop(loop).counters().rejected[static_cast<std::size_t>(reason)].get();
}

TEST(ServerLimits, MaxConnectionsRejectsAtOnceAndCounts) {
  Config config = test_config();
  config.max_connections = 3;
  RunningServer s(config);
  std::vector<reactor::UniqueFd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(s.connect_greeted());
  for (int i = 0; i < 2; ++i) {
    reactor::UniqueFd extra = s.connect();
    ASSERT_TRUE(extra.valid());
    EXPECT_TRUE(wait_closed(extra.get(), 2000ms)) << "the 4th client must be closed at once";
  }
  EXPECT_TRUE(eventually([&] { return rejected(s.server, RejectReason::kMaxConnections) == 2; }));
  EXPECT_EQ(s.server.open_connections(), 3u);
  // A slot frees when a client leaves.
  clients.pop_back();
  ASSERT_TRUE(eventually([&] { return s.server.open_connections() == 2; }));
  reactor::UniqueFd again = s.connect_greeted();
  ASSERT_TRUE(write_all(again.get(), "ok"));
  EXPECT_EQ(read_exactly(again.get(), 2), "ok");
}

TEST(ServerLimits, MaxConnectionsIsGlobalAcrossLoops) {
  Config config = test_config();
  config.loops = 2;
  config.accept_mode = AcceptMode::kSingle;  // alternate loops deterministically
  config.max_connections = 4;
  RunningServer s(config);
  std::vector<reactor::UniqueFd> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(s.connect_greeted());
  for (int i = 0; i < 4; ++i) {
    reactor::UniqueFd extra = s.connect();
    EXPECT_TRUE(wait_closed(extra.get(), 2000ms));
  }
  EXPECT_TRUE(eventually([&] {
    return rejected(s.server, RejectReason::kMaxConnections, 0) +
               rejected(s.server, RejectReason::kMaxConnections, 1) ==
           4;
  }));
}

TEST(ServerLimits, IdleTimeoutClosesIdleClientsOnly) {
  // The loop runs on a manual clock (tests/support/manual_clock.h): "every 100 ms" is 100 ms of
  // the loop's time whatever the machine's load, so the busy client can never look idle
  // because the test thread was descheduled between two of its messages.
  test_support::ManualClock clock;  // outlives the server's loop
  Config config = test_config();
  config.idle_timeout = std::chrono::milliseconds(300);
  RunningServer s(config);
  install_clock(s.server, 1, clock);
  // Bytes of ours the kernel still holds unacknowledged, all connections together. The idle
  // check counts acknowledgements as progress (a client reading a long echo); on the wall
  // clock a delayed ACK (40 ms) lands long before a 300 ms check, so before each step of the
  // loop's time the test waits for the ACKs, as the wall clock would have.
  auto unacked = [&] {
    return on_loop(s.server, 0, [](LoopWorker& w) {
      int total = 0;
      for (std::uint64_t id : w.registry().ids()) {
        int queued = 0;
        if (::ioctl(w.registry().find(id)->buffer_event().fd(), SIOCOUTQ, &queued) == 0) total += queued;
      }
      return total;
    });
  };
  auto advance = [&](std::chrono::milliseconds d) {
    EXPECT_TRUE(eventually([&] { return unacked() == 0; }));
    advance_clock(s.server, clock, d);
  };
  reactor::UniqueFd idle = s.connect_greeted();
  reactor::UniqueFd busy = s.connect_greeted();
  // busy talks every 100 ms for 900 ms: it outlives several idle periods; idle is closed at
  // the first.
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(write_all(busy.get(), "."));
    ASSERT_EQ(read_exactly(busy.get(), 1), ".") << "busy client closed after " << i << " messages";
    advance(100ms);
    if (i == 1) {
      EXPECT_EQ(closed(s.server, CloseReason::kIdleTimeout), 0u) << "200 ms idle is not 300";
    }
  }
  EXPECT_TRUE(wait_closed(idle.get(), 3000ms)) << "idle for 900 ms of the loop's time";
  idle.reset();
  EXPECT_TRUE(eventually([&] { return closed(s.server, CloseReason::kIdleTimeout) == 1; }));
  ASSERT_TRUE(write_all(busy.get(), "!")) << "busy is still open";
  ASSERT_EQ(read_exactly(busy.get(), 1), "!");
  // Then busy goes idle and is closed too, once the loop's time passes its timeout.
  advance(200ms);
  EXPECT_EQ(closed(s.server, CloseReason::kIdleTimeout), 1u) << "200 ms idle is not 300";
  // The tracker keeps activity times rounded up by less than 1/1024 of the timeout (its
  // granule, server/idle_tracker.h): the close may come that much after the exact 300 ms.
  advance(100ms + std::chrono::ceil<std::chrono::milliseconds>(config.idle_timeout / 1024));
  EXPECT_TRUE(wait_closed(busy.get(), 3000ms));
  busy.reset();
  EXPECT_TRUE(eventually([&] { return closed(s.server, CloseReason::kIdleTimeout) == 2; }));
}

TEST(ServerLimits, IdleSweepTimerIsSharedAndShowsInTheSnapshot) {
  Config config = test_config();
  config.idle_timeout = std::chrono::seconds(30);
  RunningServer s(config);
  reactor::UniqueFd a = s.connect_greeted();
  reactor::UniqueFd b = s.connect_greeted();
  auto [records, infos] = on_loop(s.server, 0, [](LoopWorker& w) {
    return std::make_pair(w.registry().snapshot(), w.base().snapshot());
  });
  ASSERT_EQ(records.size(), 2u);
  // One timer per loop, not one per connection: both records name the same event.
  ASSERT_NE(records[0].idle_timer_event_id, 0u);
  EXPECT_EQ(records[0].idle_timer_event_id, records[1].idle_timer_event_id);
  int sweep_timers = 0;
  for (const auto& info : infos) {
    if (info.label == "idle.sweep") ++sweep_timers;
    if (info.id == records[0].idle_timer_event_id) {
      EXPECT_EQ(info.label, "idle.sweep");
      EXPECT_EQ(info.state, reactor::EventState::kPending);
      ASSERT_TRUE(info.time_left.has_value());
      // At most the timeout, plus the tracker's rounding of activity (< 1/1024 of it).
      EXPECT_LE(*info.time_left, config.idle_timeout + config.idle_timeout / 1024);
      EXPECT_GT(*info.time_left, std::chrono::seconds(25));
    }
  }
  EXPECT_EQ(sweep_timers, 1);
  for (const auto& r : records) {
    ASSERT_TRUE(r.idle_deadline.has_value());
    EXPECT_LE(*r.idle_deadline - r.created, std::chrono::seconds(31));
    EXPECT_GE(*r.idle_deadline - r.created, std::chrono::seconds(30));
  }
}

// A client sends 256 MiB and does not read: the server stops reading from it once its output
// reaches --max-output-buffer, so memory stays bounded; when the client reads, all of it
// comes back.
TEST(ServerLimits, ClientThatDoesNotReadLeavesServerMemoryBounded) {
  constexpr std::size_t kLimit = 256 * 1024;
  constexpr std::size_t kTotal = 256u << 20;
  Config config = test_config();
  config.max_output_buffer = kLimit;
  RunningServer s(config);
  reactor::UniqueFd fd = s.connect_greeted();
  const long rss_before = rss_kib();

  std::string chunk(1 << 20, '\0');
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 7 + i / 4093);
  // Phase 1: send without reading until the send stalls for 300 ms (bounded: 15 s).
  std::size_t sent = 0;
  auto last_progress = TestClock::now();
  const auto phase1_deadline = TestClock::now() + 15s;
  while (sent < kTotal && TestClock::now() - last_progress < 300ms && TestClock::now() < phase1_deadline) {
    const std::size_t off = sent % chunk.size();
    const ssize_t w = ::send(fd.get(), chunk.data() + off, chunk.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0) {
      sent += static_cast<std::size_t>(w);
      last_progress = TestClock::now();
    } else {
      ASSERT_TRUE(w < 0 && errno == EAGAIN) << std::strerror(errno);
      wait_for(fd.get(), POLLOUT, 20ms);
    }
  }
  ASSERT_LT(sent, kTotal) << "the server kept reading: no backpressure";
  // What the server holds for this client is bounded by the limit plus one read.
  auto record = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot().at(0); });
  EXPECT_TRUE(record.reading_paused);
  EXPECT_LE(record.bytes_buffered_out + record.bytes_buffered_in, kLimit + 256 * 1024);
  EXPECT_GE(record.bytes_buffered_out, kLimit);
  EXPECT_GE(s.server.loop(0).counters().backpressure_pauses.get(), 1u);
  // The kernel's socket buffers hold the rest; our process (client side included) did not
  // grow by anything near what was sent.
  const long rss_growth_kib = rss_kib() - rss_before;
  EXPECT_LT(rss_growth_kib, 64 * 1024) << "sent " << sent << " bytes";

  // Phase 2: read and send the rest; every byte comes back, in order (bounded: 60 s).
  std::atomic<bool> writer_ok{true};
  std::thread writer([&] {
    std::size_t total = sent;
    while (total < kTotal) {
      const std::size_t off = total % chunk.size();
      const std::size_t n = std::min(chunk.size() - off, kTotal - total);
      if (!write_all(fd.get(), std::string_view(chunk.data() + off, n), 60000ms)) {
        writer_ok = false;
        return;
      }
      total += n;
    }
  });
  std::size_t received = 0;
  bool same = true;
  std::vector<char> buf(1 << 20);
  const auto phase2_deadline = TestClock::now() + 60s;
  while (received < kTotal && TestClock::now() < phase2_deadline) {
    if (!wait_for(fd.get(), POLLIN, 1000ms)) continue;
    const ssize_t r = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (r <= 0) {
      if (r < 0 && errno == EAGAIN) continue;
      break;
    }
    // Compare against the pattern piecewise (memcmp: fast under the sanitizers too).
    for (std::size_t done = 0; done < static_cast<std::size_t>(r) && same;) {
      const std::size_t off = (received + done) % chunk.size();
      const std::size_t n = std::min(static_cast<std::size_t>(r) - done, chunk.size() - off);
      same = std::memcmp(buf.data() + done, chunk.data() + off, n) == 0;
      done += n;
    }
    received += static_cast<std::size_t>(r);
  }
  writer.join();
  EXPECT_TRUE(writer_ok);
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(same) << "echo corrupted";
}

TEST(ServerLimits, DrainStopsAcceptingAndResumeUndoesIt) {
  RunningServer s(test_config());
  reactor::UniqueFd old = s.connect_greeted();
  s.server.drain(std::chrono::seconds(30), /*exit_when_done=*/false);
  EXPECT_EQ(s.server.state(), ServerState::kDraining);
  ASSERT_TRUE(eventually([&] {
    auto r = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
    return r.size() == 1 && r[0].state == ConnectionState::kDraining;
  }));
  // Draining clients are still served.
  ASSERT_TRUE(write_all(old.get(), "still"));
  EXPECT_EQ(read_exactly(old.get(), 5), "still");
  // The listening socket is closed: a new client is refused at once (not left waiting)...
  EXPECT_FALSE(s.connect().valid());
  // ... and served after resume, on the same port.
  EXPECT_TRUE(s.server.resume());
  std::string why;
  EXPECT_FALSE(s.server.resume(&why));
  EXPECT_NE(why.find("not draining"), std::string::npos) << why;
  reactor::UniqueFd waiting = s.connect();
  ASSERT_TRUE(waiting.valid());
  EXPECT_EQ(read_exactly(waiting.get(), 14, 3000ms), "Hello, World!\n");
  auto records = on_loop(s.server, 0, [](LoopWorker& w) { return w.registry().snapshot(); });
  ASSERT_EQ(records.size(), 2u);
  for (const auto& r : records) EXPECT_EQ(r.state, ConnectionState::kOpen);
}

TEST(ServerLimits, DrainDeadlineClosesWhatIsLeftGracefully) {
  RunningServer s(test_config());
  reactor::UniqueFd fd = s.connect_greeted();
  const auto start = TestClock::now();
  s.server.drain(std::chrono::milliseconds(200), /*exit_when_done=*/false);
  EXPECT_TRUE(wait_closed(fd.get(), 5000ms));
  fd.reset();
  EXPECT_LT(TestClock::now() - start, 4s);
  EXPECT_TRUE(eventually([&] { return closed(s.server, CloseReason::kDrain) == 1; }));
  EXPECT_EQ(s.server.state(), ServerState::kDraining) << "without exit_when_done it stays up";
}

TEST(ServerLimits, DrainWithExitStopsOnceTheLastClientLeaves) {
  Server server(test_config());
  server.start();
  reactor::UniqueFd fd = connect_to(server.listen_address());
  ASSERT_EQ(read_exactly(fd.get(), 14), "Hello, World!\n");
  server.drain(std::chrono::seconds(30), /*exit_when_done=*/true);
  ASSERT_TRUE(write_all(fd.get(), "bye"));
  EXPECT_EQ(read_exactly(fd.get(), 3), "bye");
  fd.reset();  // the last client leaves: the server stops
  const auto start = TestClock::now();
  EXPECT_EQ(server.wait(), 0);
  EXPECT_LT(TestClock::now() - start, 5s);
  EXPECT_EQ(server.state(), ServerState::kStopped);
}

}  // namespace
}  // namespace reactord::test_support
