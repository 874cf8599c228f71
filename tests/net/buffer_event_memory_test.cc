// What an idle BufferEvent costs on the heap: a counting operator new measures the bytes (usable
// size, as malloc hands them out) that N idle connections — callbacks set, owner tagged,
// reading enabled — hold, including their events and the base's bookkeeping for them.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "net_test_support.h"
#include "reactor/buffer_event.h"

namespace {
std::atomic<long long> g_live_bytes{0};
std::atomic<long long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes += static_cast<long long>(malloc_usable_size(p));
  ++g_allocations;
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes -= static_cast<long long>(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using namespace reactor;

class BufferEventMemoryTest : public nettest::BackendTest {};

// Heap bytes (usable sizes) and allocations made since construction, per connection.
struct HeapMeter {
  long long bytes_before = g_live_bytes;
  long long allocations_before = g_allocations;
  double bytes_per(int n) const { return static_cast<double>(g_live_bytes - bytes_before) / n; }
  double allocations_per(int n) const {
    return static_cast<double>(g_allocations - allocations_before) / n;
  }
};

// n connected AF_UNIX pairs: `ours` for the BufferEvents, `theirs` the idle peers.
bool make_socketpairs(int n, std::vector<int>& ours, std::vector<reactor::UniqueFd>& theirs) {
  ours.reserve(n);
  theirs.reserve(n);
  for (int i = 0; i < n; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
    ours.push_back(sv[0]);
    theirs.emplace_back(sv[1]);
  }
  return true;
}

TEST_P(BufferEventMemoryTest, IdleConnectionHeapFootprint) {
  constexpr int kConnections = 500;
  std::vector<int> ours;  // handed to the BufferEvents, which close them
  std::vector<reactor::UniqueFd> theirs;
  ASSERT_TRUE(make_socketpairs(kConnections, ours, theirs));
  std::vector<std::unique_ptr<BufferEvent>> conns;
  conns.reserve(kConnections);
  std::uint64_t reads = 0;

  const HeapMeter meter;
  for (int i = 0; i < kConnections; ++i) {
    auto bev = std::make_unique<BufferEvent>(base_, ours[i], kBevOptCloseOnFree);
    // A server's typical callbacks: small captures, stored inside the std::function.
    bev->setcb([&reads](BufferEvent& b) { reads += b.input().drain(b.input().length()); },
               [&reads](BufferEvent&) { ++reads; },
               [&reads](BufferEvent&, BevFlags, int) { ++reads; });
    bev->set_owner(static_cast<std::uint64_t>(i) + 1);
    bev->enable(kRead);
    conns.push_back(std::move(bev));
  }
  nettest::step(base_, 2);  // nothing happens on idle connections; no lazy growth either
  const double per_connection = meter.bytes_per(kConnections);
  const double allocations = meter.allocations_per(kConnections);
  std::printf("[memory] %s: %.1f heap bytes and %.2f allocations per idle BufferEvent\n",
              to_string(GetParam()), per_connection, allocations);
  RecordProperty("heap_bytes_per_idle_bufferevent", static_cast<int>(per_connection));
  // The BufferEvent itself (a pointer), its state with the read Event in place, and the
  // holder of the three std::functions: a few hundred bytes.
  EXPECT_GT(per_connection, 0.0);
  EXPECT_LE(per_connection, 600.0);
  EXPECT_LE(allocations, 3.5);

  // Idle means idle: no write event, no extras were needed.
  for (const auto& e : base_.snapshot()) EXPECT_NE(std::string(e.label), "bev.write");
  EXPECT_EQ(reads, 0u);
}

// The same with a handler object (setcb(handler, which)): one pointer instead of three
// std::functions, and the read Event held in place — two allocations per connection: the
// BufferEvent box made here (an owner would embed it) and its state.
TEST_P(BufferEventMemoryTest, IdleConnectionWithAHandlerIsTwoAllocations) {
  struct Counting : BufferEventHandler {
    void on_read(BufferEvent& b) override { reads += b.input().drain(b.input().length()); }
    void on_write(BufferEvent&) override { ++reads; }
    void on_event(BufferEvent&, BevFlags, int) override { ++reads; }
    std::uint64_t reads = 0;
  } handler;
  constexpr int kConnections = 500;
  std::vector<int> ours;  // handed to the BufferEvents, which close them
  std::vector<reactor::UniqueFd> theirs;
  ASSERT_TRUE(make_socketpairs(kConnections, ours, theirs));
  std::vector<std::unique_ptr<BufferEvent>> conns;
  conns.reserve(kConnections);
  // The base's fd table grows with the highest fd: grow it first, it is not per connection.
  { Event grow(base_, ours.back(), kRead, [](int, EventFlags) {}); grow.add(); }
  const HeapMeter meter;
  for (int i = 0; i < kConnections; ++i) {
    auto bev = std::make_unique<BufferEvent>(base_, ours[i], kBevOptCloseOnFree);
    bev->setcb(&handler, kBevCbRead | kBevCbEvent);
    bev->set_owner(static_cast<std::uint64_t>(i) + 1);
    bev->enable(kRead);
    conns.push_back(std::move(bev));
  }
  nettest::step(base_, 2);
  const double per_connection = meter.bytes_per(kConnections);
  const double allocations = meter.allocations_per(kConnections);
  std::printf("[memory] %s: %.1f heap bytes and %.2f allocations per idle BufferEvent (handler)\n",
              to_string(GetParam()), per_connection, allocations);
  RecordProperty("heap_bytes_per_idle_bufferevent_handler", static_cast<int>(per_connection));
  EXPECT_LE(per_connection, 384.0);
  EXPECT_LE(allocations, 2.1);  // poll: its pollfd array grows now and then
  EXPECT_EQ(handler.reads, 0u);
}

NETTEST_INSTANTIATE(BufferEventMemoryTest);

}  // namespace
