// The data plane first (issue #13): control-plane work on a loop — a filter scan for
// ListConnections or CloseConnections, the initial listing of a WatchConnections stream — is
// done in slices of LoopWorker::kListingSlice connections, one slice per loop iteration, so
// that the loop serves its echo clients between slices. Proven without timing: the loop's own
// iteration counter (GetLoopStats) must advance by at least one iteration per slice while the
// call runs, and the answers are still complete and correct.
#include <gtest/gtest.h>

#include "control_test_util.h"
#include "server/loop_worker.h"

namespace reactord::test_support {
namespace {

constexpr int kClients = 3000;
constexpr std::uint64_t kSlices = (kClients + LoopWorker::kListingSlice - 1) / LoopWorker::kListingSlice;

class YieldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    r_ = new InProcessReactord(1);
    clients_ = new std::vector<std::unique_ptr<TcpClient>>(connect_clients(r_->data_port(), kClients));
    ASSERT_EQ(clients_->size(), static_cast<std::size_t>(kClients));
    ASSERT_TRUE(eventually([] { return r_->server().open_connections() == kClients; }, 30000ms));
  }
  static void TearDownTestSuite() {
    delete clients_;
    delete r_;
  }
  static std::uint64_t iterations() {
    v1::GetLoopStatsResponse out;
    auto status = r_->inspect()->GetLoopStats(ctx().get(), {}, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out.loops_size() == 1 ? out.loops(0).iterations() : 0;
  }
  static InProcessReactord* r_;
  static std::vector<std::unique_ptr<TcpClient>>* clients_;
};
InProcessReactord* YieldTest::r_ = nullptr;
std::vector<std::unique_ptr<TcpClient>>* YieldTest::clients_ = nullptr;

TEST_F(YieldTest, AFilterThatMatchesNothingIsScannedInSlices) {
  auto before = iterations();
  v1::ListConnectionsRequest request;
  request.mutable_filter()->set_peer("10.0.0.0/8");
  v1::ListConnectionsResponse out;
  auto status = r_->inspect()->ListConnections(ctx(20000ms).get(), request, &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(out.connections_size(), 0);
  EXPECT_TRUE(out.end());
  // GetLoopStats itself takes one iteration; the scan at least one per slice.
  EXPECT_GE(iterations() - before, kSlices + 1);
}

TEST_F(YieldTest, PagesAcrossSlicesAreCompleteAndOrdered) {
  std::uint64_t start = 0;
  std::uint64_t last = 0;
  int seen = 0;
  for (int page = 0; page < 10; ++page) {
    v1::ListConnectionsRequest request;
    request.set_start_id(start);
    request.set_max_results(1000);
    request.mutable_filter()->set_local_port(r_->data_port());  // every connection matches
    v1::ListConnectionsResponse out;
    auto status = r_->inspect()->ListConnections(ctx(20000ms).get(), request, &out);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& c : out.connections()) {
      EXPECT_GT(c.id(), last);
      last = c.id();
      ++seen;
    }
    if (out.end()) break;
    start = last + 1;
  }
  EXPECT_EQ(seen, kClients);
}

TEST_F(YieldTest, CloseSelectionIsMadeInSlicesAndMatchesEveryConnection) {
  auto before = iterations();
  v1::CloseConnectionsRequest request;
  request.mutable_filter()->set_local_port(r_->data_port());
  request.set_dry_run(true);
  v1::CloseConnectionsResponse out;
  auto status = r_->control()->CloseConnections(ctx(20000ms).get(), request, &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(out.matched(), static_cast<std::uint32_t>(kClients));
  EXPECT_GE(iterations() - before, kSlices + 1);
}

TEST_F(YieldTest, AWatchersInitialListingIsDeliveredInSlices) {
  auto before = iterations();
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 30s);
  v1::WatchConnectionsRequest request;
  request.set_queue_limit(kClients + 10);
  auto stub = r_->inspect();
  auto reader = stub->WatchConnections(&c, request);
  v1::ConnectionEvent event;
  int existing = 0;
  std::uint64_t last = 0;
  bool ordered = true;
  while (reader->Read(&event)) {
    if (event.kind() == v1::ConnectionEvent::KIND_SYNCED) break;
    if (event.kind() == v1::ConnectionEvent::KIND_EXISTING) {
      ordered = ordered && event.connection().id() > last;
      last = event.connection().id();
      ++existing;
    }
  }
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);
  EXPECT_EQ(existing, kClients);
  EXPECT_TRUE(ordered);
  EXPECT_GE(iterations() - before, kSlices + 1);
  c.TryCancel();
  while (reader->Read(&event)) {}
  reader->Finish();
}

}  // namespace
}  // namespace reactord::test_support
