// Child processes for the CLI tests: run a command to completion with captured output, or keep
// a reactord running and read its log (stderr) line by line. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace reactord::testing {

struct RunResult {
  int exit_code = -1;  // -1 if killed at the limit
  std::string out;
  std::string err;
};

// Runs argv[0] with arguments; kills it after `limit`.
RunResult run_command(const std::vector<std::string>& argv,
                      std::chrono::milliseconds limit = std::chrono::seconds(20));

class ChildProcess {
 public:
  // Starts argv with stderr piped to us (stdout to /dev/null).
  explicit ChildProcess(const std::vector<std::string>& argv);
  // SIGKILLs the child if it still runs.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stderr lines until one contains `needle`; returns that line or nullopt at `limit`.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds limit);
  // Waits for the child to exit; its exit code (or 128+signal), nullopt at `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  const std::string& log() const { return log_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string buffer_;
  std::string log_;
  bool exited_ = false;
};

}  // namespace reactord::testing
