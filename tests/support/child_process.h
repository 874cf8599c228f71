// The one child-process helper of the tests and benchmarks: run a command to completion with
// captured output, keep a program running and read its log (stderr) line by line, read its
// console (stdout and stderr merged, stdin from us), speak to one in lines over stdin/stdout,
// run one on a pseudo-terminal as a person's shell would, or run a function in a forked child.
// Every child but the pseudo-terminal's starts through spawn(). Every wait is bounded; every
// destructor reaps its child (SIGKILL if it still runs).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reactord::test_support {

// Where a child's standard streams go: a descriptor of ours (dup2'd onto 0, 1 or 2; pass 2 to
// share our stderr), or /dev/null (kNull).
inline constexpr int kNull = -1;
struct ChildStdio {
  int in = kNull;
  int out = kNull;
  int err = kNull;
};

// The one fork + exec: starts argv[0] (a path) with the arguments, `stdio`, and our environment
// with `env` ("NAME=value") ahead of it (getenv takes the first match). Returns the child's pid;
// throws std::runtime_error if it cannot fork. Everything the child needs is built before the
// fork (no allocation after it).
pid_t spawn(const std::vector<std::string>& argv, ChildStdio stdio, const std::vector<std::string>& env = {});

// SIGKILLs `pid` and reaps it.
void kill_and_reap(pid_t pid);

// Runs body() in a forked child, for a test that must change what its process has (its fd
// limit, its fds), and returns the child's exit code: body()'s result, or 128 + the signal that
// ended it. nullopt at `limit` (the child is killed).
std::optional<int> run_in_child(const std::function<int()>& body, std::chrono::milliseconds limit);

// A wait status as a shell shows it: the exit code, or 128 + the signal.
int exit_code_of(int wait_status);
// Waits up to `limit` for `pid` to exit; its exit_code_of, nullopt at the limit.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit);

struct RunResult {
  int exit_code = -1;  // -1 if killed at the limit
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with arguments, stdin from /dev/null, stdout and stderr captured;
// kills it after `limit`.
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

// A child whose console we read: stdout and stderr merged into one pipe, in the order it wrote
// them, and stdin a pipe from us. For tests that run the real binaries and look for their
// lines ("listening on ...").
class ConsoleProcess {
 public:
  // argv[0] is the program path. env: extra "NAME=value" entries. started() is false if it
  // could not be started.
  explicit ConsoleProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  // SIGKILLs the child if it still runs.
  ~ConsoleProcess();
  ConsoleProcess(const ConsoleProcess&) = delete;
  ConsoleProcess& operator=(const ConsoleProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  void write_stdin(const std::string& text);
  void close_stdin();
  void signal(int signo);

  // Reads output until `pattern` (a regex) matches what has been read so far (returns the
  // match's first group, or the whole match), or until `limit` / EOF (nullopt).
  std::optional<std::string> wait_for_output(const std::string& pattern, std::chrono::milliseconds limit);
  // Waits for the exit (reading output meanwhile). Exit code, 128+signal, or nullopt at `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  const std::string& output() const { return output_; }

 private:
  // Reads what is available before deadline. False on EOF or timeout.
  bool read_some(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string output_;
  std::optional<int> exit_status_;
};

// A child process spoken to in lines: its stdin and stdout are pipes to us, its stderr is ours
// (so that its complaints land in the test log). For the scale suite's client holder
// (commands and replies) and for streaming commands such as `reactorctl watch`.
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

// argv as execv wants it (pointers into `argv`, which must outlive the result).
std::vector<char*> c_argv(const std::vector<std::string>& argv);

}  // namespace reactord::test_support
