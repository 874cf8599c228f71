// A real reactord process (the binary) on 127.0.0.1 port 0, driven by the real reactorctl
// binary as a person types it. Shared by the reactorctl test files. The binaries' paths come
// from REACTORD_BIN / REACTORCTL_BIN (compile definitions).
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control_test_util.h"
#include "support/child_process.h"

namespace reactord::test_support {

struct Reactord {
  explicit Reactord(std::vector<std::string> extra = {});
  const std::string& target() const { return control; }

  // reactorctl --target <this> --timeout 5s <global...> <args...>
  RunResult ctl(std::vector<std::string> args, std::vector<std::string> global = {},
                std::chrono::milliseconds limit = std::chrono::seconds(20));
  // Waits (bounded) until `info` reports exactly n open connections.
  bool wait_connections(int n, std::chrono::milliseconds limit = std::chrono::seconds(30));

  std::unique_ptr<ChildProcess> process;
  std::string control;
  std::uint16_t data_port = 0;
};

template <typename Message>
Message parse_json(const std::string& text) {
  Message m;
  auto status = google::protobuf::util::JsonStringToMessage(text, &m);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << text.substr(0, 2000);
  return m;
}

}  // namespace reactord::test_support
