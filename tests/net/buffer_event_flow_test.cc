// BufferEvent end to end: a 64 MiB byte-exact transfer between two BufferEvents, asynchronous
// connect (success and ECONNREFUSED), and deferred versus inline callbacks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>
#include <string>
#include <vector>

#include "net_test_support.h"
#include "reactor/buffer_event.h"

namespace {

using namespace reactor;
using reactord::test_support::run_until;

class BufferEventFlowTest : public reactord::test_support::BackendTest {};

// Deterministic content: byte i of the stream.
std::uint8_t pattern(std::uint64_t i) {
  const std::uint64_t x = (i / 8 + 1) * 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint8_t>(x >> (8 * (i % 8)));
}

TEST_P(BufferEventFlowTest, Transfers64MiBByteExactInRandomChunks) {
  constexpr std::uint64_t kTotal = 64ull << 20;
  auto pair = reactord::test_support::tcp_pair();
  BufferEvent writer(base_, pair.server.release(), kBevOptCloseOnFree);
  BufferEvent reader(base_, pair.client.release(), kBevOptCloseOnFree);

  std::mt19937 write_rng(1234);
  std::mt19937 read_rng(5678);
  std::uniform_int_distribution<std::size_t> write_size(1, 64 * 1024);
  std::uniform_int_distribution<std::size_t> read_size(1, 128 * 1024);
  std::uint64_t produced = 0;
  std::uint64_t consumed = 0;
  std::uint64_t mismatches = 0;
  std::vector<std::uint8_t> chunk;

  // Keep about 1 MiB queued; the write callback refills below 256 KiB.
  auto fill = [&](BufferEvent& b) {
    while (produced < kTotal && b.output().length() < (1u << 20)) {
      const std::size_t n = std::min<std::uint64_t>(write_size(write_rng), kTotal - produced);
      chunk.resize(n);
      for (std::size_t k = 0; k < n; ++k) chunk[k] = pattern(produced + k);
      b.write(chunk.data(), n);
      produced += n;
    }
  };
  writer.set_write_low_watermark(256 * 1024);
  writer.setcb({}, fill, {});

  std::vector<std::uint8_t> in(128 * 1024);
  reader.set_read_watermarks(0, 512 * 1024);  // backpressure is exercised on the way
  reader.setcb(
      [&](BufferEvent& b) {
        while (!b.input().empty()) {
          const std::size_t got = b.input().remove(in.data(), read_size(read_rng));
          for (std::size_t k = 0; k < got; ++k) mismatches += in[k] != pattern(consumed + k);
          consumed += got;
        }
      },
      {}, {});
  reader.enable(kRead);
  fill(writer);

  ASSERT_TRUE(run_until(
      base_, [&] { return consumed == kTotal; }, std::chrono::seconds(120), 10'000'000))
      << "consumed " << consumed << " of " << kTotal;
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(produced, kTotal);
  EXPECT_EQ(writer.bytes_written(), kTotal);
  EXPECT_EQ(reader.bytes_read(), kTotal);
  EXPECT_TRUE(writer.output().empty());
}

TEST_P(BufferEventFlowTest, ConnectReportsConnectedAndSendsEarlyOutput) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto address = SocketAddress::ipv4_loopback(0);
  ASSERT_EQ(::bind(listener.get(), address.get(), address.length()), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  address = SocketAddress::local_of(listener.get());

  BufferEvent bev(base_, -1, kBevOptCloseOnFree);
  BevFlags what{};
  bev.setcb({}, {}, [&](BufferEvent&, BevFlags w, int) { what |= w; });
  bev.write("early");  // queued before the socket exists
  ASSERT_TRUE(bev.connect(address));
  EXPECT_GE(bev.fd(), 0);
  EXPECT_EQ(what, BevFlags{});  // never reported from inside connect()
  ASSERT_TRUE(run_until(base_, [&] { return any(what); }));
  EXPECT_EQ(what, kBevConnected);
  ASSERT_TRUE(run_until(base_, [&] { return bev.output().empty(); }));

  reactord::test_support::Peer server(base_,
                                      UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK)));
  ASSERT_GE(server.fd(), 0);
  server.start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return server.received() == "early"; }));
  EXPECT_EQ(SocketAddress::peer_of(server.fd()), SocketAddress::local_of(bev.fd()));
}

TEST_P(BufferEventFlowTest, ConnectToAClosedPortGivesConnectionRefused) {
  BufferEvent bev(base_, -1, kBevOptCloseOnFree);
  BevFlags what{};
  int error = 0;
  bev.setcb({}, {}, [&](BufferEvent&, BevFlags w, int e) {
    what = w;
    error = e;
  });
  ASSERT_TRUE(bev.connect(SocketAddress::ipv4_loopback(reactord::test_support::closed_port())));
  ASSERT_TRUE(run_until(base_, [&] { return any(what); }));
  EXPECT_TRUE(any(what & kBevError)) << testing::PrintToString(what);
  EXPECT_FALSE(any(what & kBevConnected));
  EXPECT_EQ(error, ECONNREFUSED);
}

TEST_P(BufferEventFlowTest, DeferredConnectedAndGracefulCloseWhileConnecting) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto address = SocketAddress::ipv4_loopback(0);
  ASSERT_EQ(::bind(listener.get(), address.get(), address.length()), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  address = SocketAddress::local_of(listener.get());

  BufferEvent deferred(base_, -1, kBevOptDeferCallbacks);
  BevFlags what{};
  deferred.setcb({}, {}, [&](BufferEvent&, BevFlags w, int) { what |= w; });
  ASSERT_TRUE(deferred.connect(address));
  ASSERT_TRUE(run_until(base_, [&] { return any(what); }));
  EXPECT_EQ(what, kBevConnected);

  // Output queued and a graceful close asked for before the connect completes: delivered.
  BufferEvent closing(base_, -1, 0);
  closing.write("queued");
  ASSERT_TRUE(closing.connect(address));
  bool done = false;
  bool clean = false;
  closing.close_gracefully(std::chrono::seconds(20), [&](bool c) {
    done = true;
    clean = c;
  });
  UniqueFd first(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK));
  reactord::test_support::Peer server(base_,
                                      UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK)));
  ASSERT_GE(server.fd(), 0);
  server.start_reading();
  ASSERT_TRUE(run_until(base_, [&] { return server.eof(); }));
  EXPECT_EQ(server.received(), "queued");
  server.shutdown_write();
  ASSERT_TRUE(run_until(base_, [&] { return done; }));
  EXPECT_TRUE(clean);
}

TEST_P(BufferEventFlowTest, ConnectWithABadAddressFailsAtOnce) {
  BufferEvent bev(base_, -1, 0);
  errno = 0;
  EXPECT_FALSE(bev.connect(SocketAddress()));
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_EQ(bev.fd(), -1);
}

// Two connections readable in the same poll: inline callbacks run inside their read handler,
// so the first one runs before the second connection has read anything; deferred callbacks
// run after both handlers, so each sees the other's bytes already read.
struct Observed {
  std::uint64_t a_saw_b = UINT64_MAX;
  std::uint64_t b_saw_a = UINT64_MAX;
  BevFlags a_events{};
};

Observed run_two_readers(EventBase& base, BevOptions options) {
  auto pa = reactord::test_support::tcp_pair();
  auto pb = reactord::test_support::tcp_pair();
  BufferEvent a(base, pa.server.release(), kBevOptCloseOnFree | options);
  BufferEvent b(base, pb.server.release(), kBevOptCloseOnFree | options);
  Observed seen;
  a.setcb(
      [&](BufferEvent& self) {
        seen.a_saw_b = b.bytes_read();
        self.input().drain(1 << 20);
      },
      {}, [&](BufferEvent&, BevFlags w, int) { seen.a_events |= w; });
  b.setcb(
      [&](BufferEvent& self) {
        seen.b_saw_a = a.bytes_read();
        self.input().drain(1 << 20);
      },
      {}, {});
  a.enable(kRead);
  b.enable(kRead);
  ::send(pa.client.get(), "x", 1, 0);
  ::send(pb.client.get(), "y", 1, 0);
  run_until(base, [&] { return seen.a_saw_b != UINT64_MAX && seen.b_saw_a != UINT64_MAX; });
  ::shutdown(pa.client.get(), SHUT_WR);
  run_until(base, [&] { return any(seen.a_events); });
  return seen;
}

TEST_P(BufferEventFlowTest, InlineCallbacksRunInsideTheReadHandler) {
  const Observed seen = run_two_readers(base_, 0);
  ASSERT_NE(seen.a_saw_b, UINT64_MAX);
  ASSERT_NE(seen.b_saw_a, UINT64_MAX);
  EXPECT_TRUE(seen.a_saw_b == 0 || seen.b_saw_a == 0);
  EXPECT_EQ(seen.a_events, kBevEof | kBevReading);
}

TEST_P(BufferEventFlowTest, DeferredCallbacksRunAfterTheHandlers) {
  const Observed seen = run_two_readers(base_, kBevOptDeferCallbacks);
  EXPECT_EQ(seen.a_saw_b, 1u);
  EXPECT_EQ(seen.b_saw_a, 1u);
  EXPECT_EQ(seen.a_events, kBevEof | kBevReading);
}

REACTORD_BACKEND_SUITE(BufferEventFlowTest);

}  // namespace
