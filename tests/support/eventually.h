// The one `eventually` of the tests: polls a condition on the test thread until it holds or a
// generous limit passes (the machine may be loaded: limits are for hangs, not for speed).
// Tests that own the loop step it instead (net/net_test_support.h: run_until).
#pragma once

#include <chrono>
#include <thread>

namespace reactord::test_support {

// Polls cond every 5 ms until true or `limit`; returns its last value.
template <typename Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

}  // namespace reactord::test_support
