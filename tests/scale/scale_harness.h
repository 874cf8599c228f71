// The scale suite's and the scale bench's harness: the reactord binary on 127.0.0.1 (port 0
// for the echo, control and metrics listeners; its log goes to a file, so that a chatty log
// can never block it on a full pipe) and the client holder (tests/scale/client_holder.cc), a
// child process holding thousands of clients, driven in lines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace reactord::scale {

// Child processes: tests/support/child_process.h.
using test_support::LineProcess;
using test_support::run_command;
using CommandResult = test_support::RunResult;

class ReactordProcess {
 public:
  // Starts `binary` with --listen/--control-listen/--metrics-listen 127.0.0.1:0 and `extra`,
  // then waits (up to `limit`) for the three "listening on" log lines.
  ReactordProcess(const std::string& binary, const std::vector<std::string>& extra,
                  std::chrono::milliseconds limit = std::chrono::seconds(60));
  // SIGKILLs it if it still runs; removes the log file.
  ~ReactordProcess();
  ReactordProcess(const ReactordProcess&) = delete;
  ReactordProcess& operator=(const ReactordProcess&) = delete;

  bool ready() const { return data_port != 0 && !control.empty() && !metrics.empty(); }
  // Its exit code (128 + signal), nullopt at `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  // The log so far.
  std::string log() const;
  pid_t pid() const { return pid_; }

  std::uint16_t data_port = 0;
  std::string control;  // host:port of the control plane
  std::string metrics;  // host:port of the metrics endpoint (path /metrics)

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_code_;
};

class ClientHolder {
 public:
  ClientHolder(const std::string& binary, std::uint16_t port);
  // Sends one command and returns its reply line; "" if none came within `limit`.
  std::string command(const std::string& line, std::chrono::milliseconds limit = std::chrono::seconds(200));
  // The local ports of a group's open clients.
  std::vector<std::uint16_t> ports(const std::string& group);

 private:
  LineProcess process_;
};

// The number after "key=" in a reply such as "ok open=3 errors=0"; nullopt if absent.
std::optional<std::uint64_t> reply_field(const std::string& reply, const std::string& key);

}  // namespace reactord::scale
