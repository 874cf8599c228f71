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
  std::size_t restarts() const { return restarts_; }

 private:
  void start();
  void stop();
  void top_up_clients();

  std::unique_ptr<Server> server_;
  std::unique_ptr<std::thread> waiter_;
  std::atomic<bool> exited_{false};
  std::unique_ptr<v1::Inspect::Stub> inspect_;
  std::unique_ptr<v1::Control::Stub> control_;
  std::vector<reactor::UniqueFd> clients_;
  std::size_t restarts_ = 0;
};

}  // namespace reactord::fuzz
