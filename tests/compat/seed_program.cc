#include "seed_program.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/child_process.h"

namespace reactord::compat_test {

namespace fs = std::filesystem;

std::optional<std::string> find_seed_file() {
  if (const char* env = std::getenv("REACTORD_SEED_DIR")) {
    fs::path p = fs::path(env) / "000_c359d8f0bb6978aa.txt";
    if (fs::exists(p)) return p.string();
  }
  for (fs::path dir = fs::path(COMPAT_SOURCE_DIR).parent_path(); !dir.empty(); dir = dir.parent_path()) {
    fs::path p = dir / "shared" / "seed" / "000_c359d8f0bb6978aa.txt";
    if (fs::exists(p)) return p.string();
    if (dir == dir.root_path()) break;
  }
  return std::nullopt;
}

std::string extract_server_code(const std::string& notes) {
  // Fenced blocks: ```<lang>\n ... ```. The server is the one with main() and a listener.
  std::size_t at = 0;
  while (true) {
    const std::size_t open = notes.find("```", at);
    if (open == std::string::npos) return {};
    const std::size_t body = notes.find('\n', open);
    if (body == std::string::npos) return {};
    const std::size_t close = notes.find("```", body + 1);
    if (close == std::string::npos) return {};
    std::string code = notes.substr(body + 1, close - body - 1);
    if (code.find("evconnlistener_new_bind") != std::string::npos &&
        std::regex_search(code, std::regex(R"(\bmain\s*\()"))) {
      return code;
    }
    at = close + 3;
  }
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "reactor_event_test.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

CommandResult run(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  reactord::test_support::ConsoleProcess p(argv);
  CommandResult r;
  auto code = p.wait_exit(limit);
  r.exit_code = code ? *code : -1;
  r.output = p.output();
  return r;
}

namespace {

std::vector<std::string> split_flags(const std::string& flags) {
  std::vector<std::string> out;
  std::istringstream in(flags);
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

}  // namespace

std::vector<std::string> cc_against_reactor_event(const std::string& source, const std::string& output,
                                                  const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {COMPAT_CC, source, std::string("-I") + COMPAT_INCLUDE_DIR,
                                   std::string("-L") + COMPAT_LIB_DIR};
  for (const auto& a : extra_args) argv.push_back(a);
  argv.push_back("-lreactor_event");
  argv.push_back("-o");
  argv.push_back(output);
  for (auto& f : split_flags(COMPAT_LINK_FLAGS)) argv.push_back(f);
  return argv;
}

std::vector<std::string> cc_against_libevent(const std::string& source, const std::string& output) {
  std::vector<std::string> argv = {COMPAT_CC, source, "-levent", "-o", output};
  for (auto& f : split_flags(COMPAT_LINK_FLAGS)) argv.push_back(f);
  return argv;
}

std::string library_path_env() { return std::string("LD_LIBRARY_PATH=") + COMPAT_LIB_DIR; }

SeedPortLock::SeedPortLock() {
  fd_ = ::open("/tmp/reactord_seed_port_9995.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  // The previous holder's server may still be in TIME_WAIT cleanup; the seed sets
  // SO_REUSEADDR, so only a live listener blocks it. Wait for the port (bounded).
  for (int i = 0; i < 300 && !port_free_; ++i) {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(kSeedPort);
    port_free_ = ::bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
    ::close(s);
    if (!port_free_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

SeedPortLock::~SeedPortLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

int open_fd_count(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace reactord::compat_test
