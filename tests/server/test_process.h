// A child process with its stdin and (merged) stdout+stderr on pipes, for tests that run the
// real binaries. Every wait is bounded; the destructor kills what is still running.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace reactord::test_support {

class Process {
 public:
  // argv[0] is the program path. env: extra "NAME=value" entries.
  explicit Process(std::vector<std::string> argv, std::vector<std::string> env = {}) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    // Everything the child needs is built before fork (no allocation after it).
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_strings = env;  // first: getenv takes the first match
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~Process() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  void write_stdin(const std::string& text) {
    std::string_view rest = text;
    while (!rest.empty()) {
      const ssize_t w = ::write(stdin_, rest.data(), rest.size());
      if (w <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(w));
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  void signal(int signo) { ::kill(pid_, signo); }

  // Reads output until `pattern` matches what has been read so far (returns the match's
  // first group, or the whole match), or until timeout / EOF (nullopt).
  std::optional<std::string> wait_for_output(const std::string& pattern, std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      std::smatch m;
      if (std::regex_search(output_, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (!read_some(deadline)) return std::nullopt;
    }
  }

  // Waits for the exit (reading output meanwhile). Exit code, 128+signal, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_status_) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      if (!read_some(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)))) {
        ::usleep(5000);  // output closed: poll waitpid
      }
    }
    // Collect what is left in the pipe.
    while (read_some(std::chrono::steady_clock::now() + std::chrono::milliseconds(50))) {}
    return exit_status_;
  }

  const std::string& output() const { return output_; }

 private:
  // Reads what is available before deadline. False on EOF or timeout.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    if (stdout_ < 0) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{stdout_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t r = ::read(stdout_, buf, sizeof buf);
    if (r <= 0) {
      ::close(stdout_);
      stdout_ = -1;
      return false;
    }
    output_.append(buf, static_cast<std::size_t>(r));
    return true;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string output_;
  std::optional<int> exit_status_;
};

}  // namespace reactord::test_support
