// A child process spoken to in lines: its stdin and stdout are pipes to us, its stderr is ours
// (so that its complaints land in the test log). For the client holder (commands and replies)
// and for streaming commands such as `reactorctl watch`. Every read has a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace reactord::scale {

class LineProcess {
 public:
  // Starts argv[0] (a path) with the arguments. Throws std::runtime_error if it cannot.
  explicit LineProcess(const std::vector<std::string>& argv);
  // Closes stdin, then SIGKILLs the child if it has not exited within a second.
  ~LineProcess();
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  // Writes one line (a "\n" is added). False if the child's stdin is gone.
  bool write_line(const std::string& line);
  // The next stdout line (without "\n"); nullopt at EOF or at `limit`.
  std::optional<std::string> read_line(std::chrono::milliseconds limit);
  // Everything the child writes until it exits or `limit`, lines split; *eof says which.
  std::vector<std::string> read_lines_until_eof(std::chrono::milliseconds limit, bool* eof);
  void close_stdin();
  // Its exit code (128 + signal when killed); nullopt at `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  pid_t pid() const { return pid_; }

 private:
  bool fill(std::chrono::steady_clock::time_point end);

  pid_t pid_ = -1;
  int in_fd_ = -1;   // the child's stdin
  int out_fd_ = -1;  // the child's stdout
  std::string buffer_;
  std::optional<int> exit_code_;
};

}  // namespace reactord::scale
