// An in-process reactord Server on 127.0.0.1:0, and a way to run code on one of its loops
// from the test thread (post + future, bounded in time).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "reactor/sys_calls.h"
#include "server/server.h"
#include "support/eventually.h"
#include "support/manual_clock.h"
#include "support/tcp_client.h"

namespace reactord::test_support {

using namespace std::chrono_literals;
using TestClock = std::chrono::steady_clock;

// VmRSS of a process in KiB ("self" for this one).
inline long rss_kib(const std::string& pid = "self") {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

inline Config test_config() {
  Config config;
  config.listen = reactor::SocketAddress::ipv4_loopback(0);
  config.handle_signals = false;
  config.idle_timeout = std::chrono::seconds(60);
  return config;
}

// Runs fn on loop `index` and returns its result (fails the test after 5 s).
template <typename Fn>
auto on_loop(Server& server, std::size_t index, Fn fn) -> decltype(fn(server.loop(index))) {
  using Result = decltype(fn(server.loop(index)));
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  LoopWorker& worker = server.loop(index);
  worker.post([promise, fn, &worker]() mutable {
    if constexpr (std::is_void_v<Result>) {
      fn(worker);
      promise->set_value();
    } else {
      promise->set_value(fn(worker));
    }
  });
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "loop " << index << " did not run the posted function within 5 s";
    throw std::runtime_error("loop timeout");
  }
  return future.get();
}

// Puts loops 0..loops-1 on `clock` (tests/support/manual_clock.h): installed on each loop's
// thread. Declare the clock before the server, so that it outlives the loops that read it.
inline void install_clock(Server& server, std::size_t loops, test_support::ManualClock& clock) {
  for (std::size_t l = 0; l < loops; ++l) {
    on_loop(server, l, [&clock](LoopWorker&) { reactor::install_sys_calls(&clock); });
  }
}

// Moves the loops' clock forward and wakes loop `index`, whose timers then see the new time.
inline void advance_clock(Server& server, test_support::ManualClock& clock, std::chrono::nanoseconds d,
                          std::size_t index = 0) {
  clock.advance(d);
  on_loop(server, index, [](LoopWorker&) {});
}

// A started server, stopped and waited for at the end of the test.
struct RunningServer {
  explicit RunningServer(Config config) : server(std::move(config)) { server.start(); }
  ~RunningServer() {
    server.stop();
    EXPECT_EQ(server.wait(), 0);
  }
  reactor::UniqueFd connect() { return connect_to(server.listen_address()); }
  // Connects and reads the greeting; fails the test if it does not come.
  reactor::UniqueFd connect_greeted() {
    reactor::UniqueFd fd = connect();
    EXPECT_TRUE(fd.valid());
    const std::string& greeting = server.config().greeting;
    EXPECT_EQ(read_exactly(fd.get(), greeting.size()), greeting);
    return fd;
  }
  Server server;
};

}  // namespace reactord::test_support
