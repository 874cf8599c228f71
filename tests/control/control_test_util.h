// Helpers for the control plane's integration tests: an in-process reactord (Server +
// ControlPlane on 127.0.0.1 port 0) reached through a real gRPC channel; its clients are
// support/tcp_client.h's.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "reactord/v1/reactord.grpc.pb.h"
#include "server/config.h"
#include "server/control/control_plane.h"
#include "server/server.h"
#include "support/eventually.h"
#include "support/tcp_client.h"

namespace reactord::test_support {

using namespace std::chrono_literals;

// A reactord in this process. The loops run on their own threads; the test thread is a gRPC
// client.
class InProcessReactord {
 public:
  // Starts at once; the control plane always binds 127.0.0.1 port 0 (options.listen ignored).
  explicit InProcessReactord(unsigned loops = 1, control::ControlOptions options = {});
  ~InProcessReactord();

  Server& server() { return *server_; }
  std::uint16_t data_port() const;
  std::uint16_t control_port() const { return plane_->port(); }
  std::string control_target() const;
  std::shared_ptr<grpc::Channel> channel();
  std::unique_ptr<v1::Inspect::Stub> inspect();
  std::unique_ptr<v1::Control::Stub> control();
  // Stops the server (if still running) and returns wait()'s exit code.
  int stop_and_wait();
  // Waits (bounded) until the server stops by itself; nullopt on timeout.
  std::optional<int> wait_for_exit(std::chrono::milliseconds limit);

 private:
  std::unique_ptr<Server> server_;
  control::ControlPlane* plane_ = nullptr;
  std::mutex channel_mutex_;  // channel() is called from several threads
  std::shared_ptr<grpc::Channel> channel_;
  bool waited_ = false;
  int exit_code_ = 0;
  std::unique_ptr<std::thread> waiter_;
  std::atomic<bool> exited_{false};
};

// A context with a deadline (default 5 s) and, optionally, a bearer token.
std::unique_ptr<grpc::ClientContext> ctx(std::chrono::milliseconds deadline = 5000ms,
                                         const std::string& token = "");

// The data service's greeting, as a client reads it first.
inline const std::string kGreeting = "Hello, World!\n";

// Connects to `port` and reads the greeting, so the connection is surely registered (a failed
// connect or a wrong greeting is a test failure).
std::unique_ptr<TcpClient> greeted_client(std::uint16_t port);

// Waits (up to 20 s) until the Inspect service's GetServerInfo counts `n` connections.
bool inspect_counts_connections(InProcessReactord& r, int n);

// Opens `n` clients to `port`; every one must connect (checked by the caller: the result is
// shorter than n when one did not).
std::vector<std::unique_ptr<TcpClient>> connect_clients(std::uint16_t port, int n);

// Writes text to a fresh temp file; returns its path. The file is removed when the test
// process exits.
std::string temp_file(const std::string& text);

}  // namespace reactord::test_support
