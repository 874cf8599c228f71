// The seed's hello-world server (a libevent sample program, in the seed notes) as the compat
// tests use it: found next to the repository, its code block extracted unchanged, compiled
// with a plain C compiler against libreactor_event or libevent, and run on its fixed port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace reactord::compat_test {

// The seed notes: <an ancestor of the repository>/shared/seed/000_c359d8f0bb6978aa.txt (CI keeps
// a copy at ../shared/seed; worktrees sit deeper). nullopt if none is found.
std::optional<std::string> find_seed_file();

// The C code block of the seed's server: the fenced block that has main() and
// evconnlistener_new_bind. Empty if there is none.
std::string extract_server_code(const std::string& notes);

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs argv to completion (bounded); exit code and merged output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run(const std::vector<std::string>& argv,
                  std::chrono::milliseconds limit = std::chrono::seconds(120));

// `cc <source> -I<include> -L<libdir> -lreactor_event` (plus the sanitizer link flags of this
// build; extra_args, flags or libraries, go before -lreactor_event) or `cc <source> -levent`:
// the command line a libevent user types.
std::vector<std::string> cc_against_reactor_event(const std::string& source, const std::string& output,
                                                  const std::vector<std::string>& extra_args = {});
std::vector<std::string> cc_against_libevent(const std::string& source, const std::string& output);
// LD_LIBRARY_PATH=<the directory of libreactor_event.so>, for running what cc built.
std::string library_path_env();

// The seed server listens on a fixed port (9995): tests that run it hold this lock (an
// flock shared by every build of these tests on the machine) and wait until the port is free.
class SeedPortLock {
 public:
  SeedPortLock();
  ~SeedPortLock();
  SeedPortLock(const SeedPortLock&) = delete;
  SeedPortLock& operator=(const SeedPortLock&) = delete;
  bool port_free() const { return port_free_; }

 private:
  int fd_ = -1;
  bool port_free_ = false;
};
inline constexpr int kSeedPort = 9995;

// Open file descriptors of a process (/proc/<pid>/fd).
int open_fd_count(pid_t pid);

}  // namespace reactord::compat_test
