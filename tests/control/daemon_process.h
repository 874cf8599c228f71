// The real reactord binary for life-cycle tests: started with every port on 127.0.0.1:0, its
// data and control ports read from its output (stdout and stderr merged), gRPC stubs to its
// control plane. Every wait is bounded; the destructor kills what still runs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reactord/v1/reactord.grpc.pb.h"
#include "reactor/socket_address.h"
#include "support/child_process.h"

namespace reactord::test_support {

using namespace std::chrono_literals;

// The binary under test: REACTORD_BIN from the build, or $REACTORD_TEST_BIN (to run these tests
// against another build, e.g. to see them fail on an older one).
inline std::string binary() {
  const char* other = std::getenv("REACTORD_TEST_BIN");
  return other != nullptr && *other != '\0' ? other : REACTORD_BIN;
}

struct Daemon {
  explicit Daemon(std::vector<std::string> flags = {}, std::vector<std::string> env = {})
      : process(argv(std::move(flags)), std::move(env)) {
    // main's own line on stdout ("listening on ...") comes after every component started.
    auto data = process.wait_for_output(R"((?:^|\n)listening on 127\.0\.0\.1:(\d+))", 20000ms);
    if (data) data_port = static_cast<std::uint16_t>(std::stoi(*data));
    auto ctl = process.wait_for_output(R"(control plane listening on 127\.0\.0\.1:(\d+))", 1000ms);
    if (ctl) control_port = static_cast<std::uint16_t>(std::stoi(*ctl));
  }
  // The three addresses default to 127.0.0.1:0 unless `flags` gives them.
  static std::vector<std::string> argv(std::vector<std::string> flags) {
    std::vector<std::string> a = {binary()};
    for (const char* flag : {"--listen", "--control-listen", "--metrics-listen"}) {
      if (std::find(flags.begin(), flags.end(), flag) == flags.end()) {
        a.push_back(flag);
        a.push_back("127.0.0.1:0");
      }
    }
    a.insert(a.end(), flags.begin(), flags.end());
    return a;
  }
  bool ready() const { return data_port != 0 && control_port != 0; }
  reactor::SocketAddress data_address() const { return reactor::SocketAddress::ipv4_loopback(data_port); }
  std::string control_target() const { return "127.0.0.1:" + std::to_string(control_port); }
  std::shared_ptr<grpc::Channel> channel() {
    if (!channel_) channel_ = grpc::CreateChannel(control_target(), grpc::InsecureChannelCredentials());
    return channel_;
  }
  std::unique_ptr<v1::Inspect::Stub> inspect() { return v1::Inspect::NewStub(channel()); }
  std::unique_ptr<v1::Control::Stub> control() { return v1::Control::NewStub(channel()); }

  test_support::ConsoleProcess process;
  std::uint16_t data_port = 0;
  std::uint16_t control_port = 0;

 private:
  std::shared_ptr<grpc::Channel> channel_;
};

// Runs reactord (or any program) to its end, bounded: {exit code or -1, merged output}.
inline std::pair<int, std::string> run_to_end(std::vector<std::string> argv,
                                              std::chrono::milliseconds limit = 20000ms) {
  test_support::ConsoleProcess p(std::move(argv));
  p.close_stdin();
  auto code = p.wait_exit(limit);
  return {code.value_or(-1), p.output()};
}

}  // namespace reactord::test_support
