#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <regex>
#include <stdexcept>
#include <thread>

namespace reactord::test_support {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, ChildStdio stdio, const std::vector<std::string>& env) {
  auto args = c_argv(argv);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (!env.empty()) {
    env_strings = env;  // first: getenv takes the first match
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(stdio.in == kNull ? null : stdio.in, 0);
    ::dup2(stdio.out == kNull ? null : stdio.out, 1);
    ::dup2(stdio.err == kNull ? null : stdio.err, 2);
    if (envp.empty()) {
      ::execv(args[0], args.data());
    } else {
      ::execve(args[0], args.data(), envp.data());
    }
    ::_exit(127);
  }
  return pid;
}

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::optional<int> run_in_child(const std::function<int()>& body, std::chrono::milliseconds limit) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) ::_exit(body());
  std::optional<int> code = wait_for_exit(pid, limit);
  if (!code) kill_and_reap(pid);
  return code;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return exit_code_of(status);
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe");
  }
  const pid_t pid = spawn(argv, {kNull, out_pipe[1], err_pipe[1]});
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  RunResult result;
  auto end = std::chrono::steady_clock::now() + limit;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open = 2;
  bool killed = false;
  std::vector<char> buf(1 << 16);
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      } else {
        (i == 0 ? result.out : result.err).append(buf.data(), static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = killed ? -1 : exit_code_of(status);
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = spawn(argv, {kNull, kNull, err_pipe[1]});
  ::close(err_pipe[1]);
  err_fd_ = err_pipe[0];
}

ChildProcess::~ChildProcess() {
  if (!exited_) kill_and_reap(pid_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& needle,
                                                       std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (;;) {
    std::size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.find(needle) != std::string::npos) return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0 || err_fd_ < 0) return std::nullopt;
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(err_fd_);
      err_fd_ = -1;
      continue;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    log_.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return exit_code_of(status);
    }
    // Keep draining its log so it never blocks on a full pipe.
    wait_for_line("\x01never\x01", std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

PtyProcess::PtyProcess(const std::vector<std::string>& argv, unsigned short rows, unsigned short cols) {
  auto args = c_argv(argv);
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
  if (pid_ < 0) throw std::runtime_error("forkpty");
  if (pid_ == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

PtyProcess::~PtyProcess() {
  if (!exited_) kill_and_reap(pid_);
  if (master_ >= 0) ::close(master_);
}

void PtyProcess::read_some(std::chrono::milliseconds limit) {
  if (master_ < 0) {
    std::this_thread::sleep_for(limit);
    return;
  }
  pollfd p{master_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return;
  char buf[4096];
  ssize_t n = ::read(master_, buf, sizeof buf);
  if (n <= 0) {  // EIO once the child has gone and the terminal has hung up
    ::close(master_);
    master_ = -1;
    return;
  }
  // The terminal turns "\n" into "\r\n": keep the text as the program wrote it.
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] != '\r') output_ += buf[i];
  }
}

std::optional<std::size_t> PtyProcess::wait_for(const std::string& needle, std::size_t from,
                                                std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (from <= output_.size()) {
      auto at = output_.find(needle, from);
      if (at != std::string::npos) return at;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    read_some(std::min(left, std::chrono::milliseconds(100)));
  }
}

void PtyProcess::signal(int sig) {
  if (!exited_) ::kill(pid_, sig);
}

std::optional<int> PtyProcess::wait_exit(std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      // What is left in the terminal (bounded: stop once 50 ms bring nothing new).
      for (std::size_t before = ~std::size_t{0}; master_ >= 0 && before != output_.size();) {
        before = output_.size();
        read_some(std::chrono::milliseconds(50));
      }
      return exit_code_of(status);
    }
    read_some(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

ConsoleProcess::ConsoleProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return;
  }
  pid_ = spawn(argv, {in[0], out[1], out[1]}, env);
  ::close(in[0]);
  ::close(out[1]);
  stdin_ = in[1];
  stdout_ = out[0];
}

ConsoleProcess::~ConsoleProcess() {
  close_stdin();
  if (!exit_status_) kill_and_reap(pid_);
  if (stdout_ >= 0) ::close(stdout_);
}

void ConsoleProcess::write_stdin(const std::string& text) {
  std::string_view rest = text;
  while (!rest.empty() && stdin_ >= 0) {
    const ssize_t w = ::write(stdin_, rest.data(), rest.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(w));
  }
}

void ConsoleProcess::close_stdin() {
  if (stdin_ >= 0) ::close(stdin_);
  stdin_ = -1;
}

void ConsoleProcess::signal(int signo) {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, signo);
}

std::optional<std::string> ConsoleProcess::wait_for_output(const std::string& pattern,
                                                           std::chrono::milliseconds limit) {
  const std::regex re(pattern);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    std::smatch m;
    if (std::regex_search(output_, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
    if (!read_some(deadline)) return std::nullopt;
  }
}

std::optional<int> ConsoleProcess::wait_exit(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!exit_status_) {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = exit_code_of(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    if (!read_some(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // output closed: poll waitpid
    }
  }
  // Collect what is left in the pipe.
  while (read_some(std::chrono::steady_clock::now() + std::chrono::milliseconds(50))) {}
  return exit_status_;
}

bool ConsoleProcess::read_some(std::chrono::steady_clock::time_point deadline) {
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

LineProcess::LineProcess(const std::vector<std::string>& argv) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw std::runtime_error("pipe");
  }
  pid_ = spawn(argv, {in_pipe[0], out_pipe[1], STDERR_FILENO});
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  in_fd_ = in_pipe[1];
  out_fd_ = out_pipe[0];
  ::signal(SIGPIPE, SIG_IGN);  // a dead child's stdin must not kill the test
}

LineProcess::~LineProcess() {
  close_stdin();
  if (!wait_exit(std::chrono::seconds(1))) kill_and_reap(pid_);
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool LineProcess::write_line(const std::string& line) {
  if (in_fd_ < 0) return false;
  std::string data = line + "\n";
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(in_fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads what is there (waiting until `end` for something); false at EOF or time out.
bool LineProcess::fill(std::chrono::steady_clock::time_point end) {
  if (out_fd_ < 0) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{out_fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r < 0 && errno == EINTR) return true;
  if (r <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(out_fd_, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    ::close(out_fd_);
    out_fd_ = -1;
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> LineProcess::read_line(std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (!fill(end)) return std::nullopt;
  }
}

std::vector<std::string> LineProcess::read_lines_until_eof(std::chrono::milliseconds limit, bool* eof) {
  auto end = std::chrono::steady_clock::now() + limit;
  std::vector<std::string> lines;
  for (;;) {
    std::size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      lines.push_back(buffer_.substr(0, nl));
      buffer_.erase(0, nl + 1);
    }
    if (out_fd_ < 0) {
      *eof = true;
      if (!buffer_.empty()) lines.push_back(std::move(buffer_));
      buffer_.clear();
      return lines;
    }
    if (!fill(end) && out_fd_ >= 0) {
      *eof = false;
      return lines;
    }
  }
}

void LineProcess::close_stdin() {
  if (in_fd_ >= 0) ::close(in_fd_);
  in_fd_ = -1;
}

std::optional<int> LineProcess::wait_exit(std::chrono::milliseconds limit) {
  if (!exit_code_) exit_code_ = wait_for_exit(pid_, limit);
  return exit_code_;
}

}  // namespace reactord::test_support
