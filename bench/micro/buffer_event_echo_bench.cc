// BufferEvent echo, one message per iteration: what the rate-limit hook costs on the hot path.
//
// Two BufferEvents on the ends of a socketpair; one iteration writes a 64-byte message on one,
// the other's read callback echoes it back, and the first one's read callback ends the round
// trip. Variants:
//   bev_echo/unlimited         no limit: the path every reactord connection takes by default
//                              (compare with the same benchmark built from main: the ratio is
//                              the cost of the rate-limit branch when no limit is set),
//   bev_echo/limited_idle      a limit so large it never throttles: the cost of the
//                              accounting itself (bucket update, allowance, charge).
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "reactor/buffer_event.h"
#include "reactor/event_base.h"
#if __has_include("reactor/rate_limit.h")
#include "reactor/rate_limit.h"
#define BENCH_HAS_RATE_LIMIT 1
#endif

namespace {

using namespace reactor;

void run_echo(benchmark::State& state, bool limited) {
  EventBase base;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
    state.SkipWithError("socketpair");
    return;
  }
  BufferEvent client(base, sv[0], kBevOptCloseOnFree);
  BufferEvent server(base, sv[1], kBevOptCloseOnFree);
#ifdef BENCH_HAS_RATE_LIMIT
  if (limited) {
    const auto cfg = *TokenBucketConfig::make(kRateLimitMax, kRateLimitMax, kRateLimitMax, kRateLimitMax);
    client.set_rate_limit(cfg);
    server.set_rate_limit(cfg);
  }
#else
  if (limited) {
    state.SkipWithError("no rate limits in this build");
    return;
  }
#endif
  const std::string message(64, 'm');
  bool answered = false;
  server.setcb([](BufferEvent& b) { b.write_buffer(b.input()); }, {}, {});
  client.setcb(
      [&](BufferEvent& b) {
        if (b.input().length() >= message.size()) {
          b.input().drain(b.input().length());
          answered = true;
        }
      },
      {}, {});
  server.enable(kRead);
  client.enable(kRead);
  for (auto _ : state) {
    answered = false;
    client.write(message);
    while (!answered) base.loop(kLoopOnce);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_BevEchoUnlimited(benchmark::State& state) { run_echo(state, false); }
void BM_BevEchoLimitedIdle(benchmark::State& state) { run_echo(state, true); }

BENCHMARK(BM_BevEchoUnlimited)->Name("bev_echo/unlimited");
BENCHMARK(BM_BevEchoLimitedIdle)->Name("bev_echo/limited_idle");

}  // namespace
