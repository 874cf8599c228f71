// A real reactord in the fuzzing process for the RPC fuzz target: Server with two loops and
// the ControlPlane (no token: loopback), a few live TCP clients on its data port, and stubs
// on the control plane's in-process channel (the same services, auth, limits, audit and
// metrics as over TCP, without the network). When a fuzzed call ended a loop, the server or
// its serving state (ExitLoop, BreakLoop, Drain), the next input gets a fresh server, so every
// input runs against a serving reactord with live connections.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "reactor/unique_fd.h"
#include "reactord/v1/reactord.grpc.pb.h"
#include "server/server.h"

namespace reactord::fuzz {

class RpcHarness {
 public:
  static constexpr int kClients = 4;

  RpcHarness();
  ~RpcHarness();

  // Before an input: a serving server (restarted if a previous call stopped any part of it)
  // with kClients live connections (the ones a call closed are replaced).
  void ready();
  v1::Inspect::Stub& inspect() { return *inspect_; }
  v1::Control::Stub& control() { return *control_; }
  unsigned loops() const { return 2; }
  // Serving, every loop running. Test thread.
  bool healthy();
  // ExitLoop and BreakLoop answer once the request is posted; the loops end a moment later.
  // Waits (at most 5 s) until each of `loops` has ended; false if one has not. Test thread.
  template <typename Loops>
  bool await_ended(const Loops& loops) {
    for (std::uint32_t loop : loops) {
      if (!await_ended(loop)) return false;
    }
    return true;
  }
  bool await_ended(std::uint32_t loop);
  // After an input: a server that a call stopped in part (a loop ended, a drain) is replaced
  // at once, so that its threads are gone before libFuzzer's leak check, which runs between
  // inputs and would take a thread's memory in the middle of its exit for a leak.
  void settle();
  std::size_t restarts() const { return restarts_; }

 private:
  void start();
  void stop();
  void restart();  // stop, start, counted
  // False if a connect was refused (every listener closing: see ready()).
  bool top_up_clients();

  std::unique_ptr<Server> server_;
  std::unique_ptr<std::thread> waiter_;
  std::atomic<bool> exited_{false};
  std::unique_ptr<v1::Inspect::Stub> inspect_;
  std::unique_ptr<v1::Control::Stub> control_;
  std::vector<reactor::UniqueFd> clients_;
  std::size_t restarts_ = 0;
};

}  // namespace reactord::fuzz
