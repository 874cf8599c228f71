// WatchConnections under abuse (issue #13.3): watchers that never read, while connections
// churn, hold at most --watch-buffer-bytes each and --watch-total-bytes together, are ended
// with RESOURCE_EXHAUSTED (or cancelled when stuck writing to a client that does not read) and
// counted; no more than --control-max-watchers are open; the thread a stuck watcher held is
// given back, so health keeps answering. Real gRPC channels and real TCP clients.
#include <gtest/gtest.h>

#include <atomic>

#include "control_test_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/control/request_limits.h"
#include "server/metrics/control_metrics.h"

namespace reactord::test_support {
namespace {

struct Bounded {
  std::shared_ptr<metrics::ControlMetrics> metrics = std::make_shared<metrics::ControlMetrics>();
  std::unique_ptr<InProcessReactord> r;

  explicit Bounded(control::WatchLimits limits) {
    control::ControlOptions options;
    options.watch = limits;
    options.metrics = metrics;
    r = std::make_unique<InProcessReactord>(1, options);
  }
  WatchCounters& watch() { return metrics->watch; }
};

// Opens and closes `n` clients (each one an opened and a closed event for every watcher).
void churn(std::uint16_t port, int n) {
  for (int i = 0; i < n; ++i) TcpClient client(port);
}

bool healthy(InProcessReactord& r) {
  auto stub = grpc::health::v1::Health::NewStub(r.channel());
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  auto status = stub->Check(ctx(3000ms).get(), request, &response);
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

// A watch stream whose client never calls Read() (its own channel, so that the unread
// stream's flow-control window does not stall the test's other calls).
struct UnreadWatch {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Inspect::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::ConnectionEvent>> reader;

  UnreadWatch(const std::string& target, std::uint32_t queue_limit) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a TCP connection of its own
    channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    stub = v1::Inspect::NewStub(channel);
    context.set_deadline(std::chrono::system_clock::now() + 60s);
    v1::WatchConnectionsRequest request;
    request.set_queue_limit(queue_limit);
    reader = stub->WatchConnections(&context, request);
  }
  // Reads what was buffered, then the status.
  grpc::Status finish() {
    v1::ConnectionEvent event;
    while (reader->Read(&event)) {}
    return reader->Finish();
  }
};

TEST(WatchBounds, AWatcherThatNeverReadsIsEndedAndCountedUnderChurn) {
  control::WatchLimits limits;
  limits.buffer_bytes = 64 * 1024;
  Bounded b(limits);
  UnreadWatch unread(b.r->control_target(), control::kMaxWatchQueueItems);
  ASSERT_TRUE(eventually([&] { return b.watch().open.load() == 1; }));

  std::int64_t most_queued = 0;
  ASSERT_TRUE(eventually(
      [&] {
        churn(b.r->data_port(), 50);
        most_queued = std::max(most_queued, b.watch().queued_bytes.load());
        return b.watch().dropped_slow.load() == 1;
      },
      30000ms));
  // Never more than one watcher's bound (plus the item that crossed it) was held.
  EXPECT_LE(most_queued, std::int64_t{64 * 1024});
  auto status = unread.finish();
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              status.error_code() == grpc::StatusCode::CANCELLED)
      << status.error_code() << " " << status.error_message();
  EXPECT_TRUE(eventually([&] { return b.watch().open.load() == 0; }));
  EXPECT_EQ(b.watch().queued_bytes.load(), 0);
  EXPECT_TRUE(healthy(*b.r));
}

TEST(WatchBounds, ASlowReaderGetsResourceExhaustedWithTheFlagNamed) {
  control::WatchLimits limits;
  limits.buffer_bytes = 16 * 1024;
  Bounded b(limits);
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 60s);
  v1::WatchConnectionsRequest request;
  request.set_queue_limit(control::kMaxWatchQueueItems);
  auto stub = b.r->inspect();
  auto reader = stub->WatchConnections(&c, request);
  v1::ConnectionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);
  // Far more events than 16 KiB of queue, produced while this reader does not read; the
  // client's transport window holds what the server's write already sent.
  ASSERT_TRUE(eventually(
      [&] {
        churn(b.r->data_port(), 50);
        return b.watch().dropped_slow.load() == 1;
      },
      30000ms));
  while (reader->Read(&event)) {}
  auto status = reader->Finish();
  ASSERT_TRUE(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              status.error_code() == grpc::StatusCode::CANCELLED)
      << status.error_code() << " " << status.error_message();
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    EXPECT_NE(status.error_message().find("--watch-buffer-bytes"), std::string::npos)
        << status.error_message();
  }
}

TEST(WatchBounds, TheProcessWideCapEndsWatchersBeforeTheirOwnBound) {
  control::WatchLimits limits;
  limits.buffer_bytes = 1 << 20;
  limits.total_bytes = 48 * 1024;
  Bounded b(limits);
  UnreadWatch first(b.r->control_target(), control::kMaxWatchQueueItems);
  UnreadWatch second(b.r->control_target(), control::kMaxWatchQueueItems);
  ASSERT_TRUE(eventually([&] { return b.watch().open.load() == 2; }));
  std::int64_t most_queued = 0;
  ASSERT_TRUE(eventually(
      [&] {
        churn(b.r->data_port(), 50);
        most_queued = std::max(most_queued, b.watch().queued_bytes.load());
        return b.watch().dropped_total.load() >= 1;
      },
      30000ms));
  EXPECT_LE(most_queued, std::int64_t{48 * 1024});
  EXPECT_EQ(b.watch().dropped_slow.load(), 0u);
}

TEST(WatchBounds, NoMoreThanMaxWatchersAreOpenAndAFreedSlotIsReused) {
  control::WatchLimits limits;
  limits.max_watchers = 2;
  Bounded b(limits);
  auto open = [&](grpc::ClientContext& c, auto& stub) {
    c.set_deadline(std::chrono::system_clock::now() + 30s);
    return stub->WatchConnections(&c, v1::WatchConnectionsRequest{});
  };
  auto stub = b.r->inspect();
  grpc::ClientContext c1, c2, c3;
  auto w1 = open(c1, stub);
  auto w2 = open(c2, stub);
  v1::ConnectionEvent event;
  ASSERT_TRUE(w1->Read(&event));  // synced: admitted
  ASSERT_TRUE(w2->Read(&event));
  auto w3 = open(c3, stub);
  EXPECT_FALSE(w3->Read(&event));
  auto status = w3->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--control-max-watchers 2"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(b.watch().refused.load(), 1u);

  c1.TryCancel();
  while (w1->Read(&event)) {}
  w1->Finish();
  ASSERT_TRUE(eventually([&] { return b.watch().open.load() == 1; }));
  grpc::ClientContext c4;
  auto w4 = open(c4, stub);
  ASSERT_TRUE(w4->Read(&event));
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);
  c2.TryCancel();
  c4.TryCancel();
  while (w2->Read(&event)) {}
  while (w4->Read(&event)) {}
  w2->Finish();
  w4->Finish();
}

TEST(WatchBounds, StuckWatchersGiveTheirThreadsBackAndHealthAnswers) {
  control::WatchLimits limits;
  limits.buffer_bytes = 32 * 1024;
  limits.max_watchers = 8;
  Bounded b(limits);
  std::vector<std::unique_ptr<UnreadWatch>> unread;
  for (int i = 0; i < 8; ++i) {
    unread.push_back(std::make_unique<UnreadWatch>(b.r->control_target(), 65536));
  }
  ASSERT_TRUE(eventually([&] { return b.watch().open.load() == 8; }, 10000ms));
  ASSERT_TRUE(eventually(
      [&] {
        churn(b.r->data_port(), 50);
        return b.watch().dropped_slow.load() == 8;
      },
      30000ms));
  // Their handlers were blocked writing to clients that do not read: cancelled, they return.
  EXPECT_TRUE(eventually([&] { return b.watch().open.load() == 0; }, 10000ms));
  EXPECT_TRUE(healthy(*b.r));
  for (auto& w : unread) w->finish();
}

// A client that never reads fills its transport window first: the handler then (usually)
// sits in Write() and never sees the failure. Housekeeping cancels that call after 1 s, which frees
// the handler's thread and the watcher's slot.
TEST(WatchBounds, AHandlerStuckWritingToANonReadingClientIsCancelled) {
  control::WatchLimits limits;  // the default 1 MiB: the window fills before the queue does
  Bounded b(limits);
  UnreadWatch unread(b.r->control_target(), control::kMaxWatchQueueItems);
  ASSERT_TRUE(eventually([&] { return b.watch().open.load() == 1; }));
  ASSERT_TRUE(eventually(
      [&] {
        churn(b.r->data_port(), 100);
        return b.watch().dropped_slow.load() == 1;
      },
      60000ms));
  EXPECT_TRUE(eventually([&] { return b.watch().open.load() == 0; }, 10000ms));
  auto status = unread.finish();
  // CANCELLED when the handler was stuck in Write() (most runs here); RESOURCE_EXHAUSTED when
  // the failure came while it was between writes.
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::CANCELLED ||
              status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_code() << " " << status.error_message();
  EXPECT_TRUE(healthy(*b.r));
}

TEST(WatchBounds, AReadingWatcherSeesEveryEventWithinItsBounds) {
  control::WatchLimits limits;
  limits.buffer_bytes = 256 * 1024;
  Bounded b(limits);
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 30s);
  auto stub = b.r->inspect();
  auto reader = stub->WatchConnections(&c, v1::WatchConnectionsRequest{});
  v1::ConnectionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);
  // The producer churns in batches and lets the reader catch up after each (bounded wait): a
  // reading watcher then never has more than a batch's events queued, far below its bound, also
  // when a sanitizer makes this reading thread several times slower than the loop (CI: ASan
  // saw the watcher fall 256 KiB behind an unpaced churn of 200).
  std::atomic<int> seen_closed{0};
  std::thread producer([&] {
    constexpr int kBatch = 20;
    for (int done = 0; done < 200; done += kBatch) {
      churn(b.r->data_port(), kBatch);
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (seen_closed.load() < done + kBatch && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
      }
    }
  });
  int opened = 0, closed = 0;
  std::uint64_t dropped = 0;
  while ((opened < 200 || closed < 200) && reader->Read(&event)) {
    dropped += event.dropped();
    if (event.kind() == v1::ConnectionEvent::KIND_OPENED) ++opened;
    if (event.kind() == v1::ConnectionEvent::KIND_CLOSED) seen_closed.store(++closed);
  }
  producer.join();
  EXPECT_EQ(opened, 200);
  EXPECT_EQ(closed, 200);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(b.watch().dropped_slow.load(), 0u);
  c.TryCancel();
  while (reader->Read(&event)) {}
  reader->Finish();
}

}  // namespace
}  // namespace reactord::test_support
