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
  std::optional<std::string> wait_for_line(const std::string& needle, std::chrono::milliseconds limit);
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

// A child on a pseudo-terminal (as a person's shell runs it): isatty() is true for it and the
// window has `rows` x `cols`. Everything it prints is collected (without the terminal's "\r"
// before each "\n"); every wait is bounded.
class PtyProcess {
 public:
  PtyProcess(const std::vector<std::string>& argv, unsigned short rows, unsigned short cols);
  // SIGKILLs the child if it still runs.
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  // Reads until output() from offset `from` contains `needle`; its position, or nullopt at
  // `limit`.
  std::optional<std::size_t> wait_for(const std::string& needle, std::size_t from,
                                      std::chrono::milliseconds limit);
  void signal(int sig);
  // Waits for the exit, reading output meanwhile; exit code (or 128+signal), nullopt at `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  const std::string& output() const { return output_; }

 private:
  void read_some(std::chrono::milliseconds limit);
  pid_t pid_ = -1;
  int master_ = -1;
  std::string output_;
  bool exited_ = false;
};

}  // namespace reactord::testing
