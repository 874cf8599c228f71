#include "scale_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace reactord::scale {

namespace {

// "... listening on 127.0.0.1:4242 (2 loops)" -> "127.0.0.1:4242"
std::string address_after(const std::string& line, const std::string& marker) {
  auto at = line.find(marker);
  if (at == std::string::npos) return {};
  std::string rest = line.substr(at + marker.size());
  return rest.substr(0, rest.find_first_of(" ,/"));
}

}  // namespace

ReactordProcess::ReactordProcess(const std::string& binary, const std::vector<std::string>& extra,
                                 std::chrono::milliseconds limit) {
  char path[] = "/tmp/reactord-scale-log-XXXXXX";
  int log_fd = ::mkstemp(path);
  if (log_fd < 0) throw std::runtime_error("mkstemp");
  log_path_ = path;
  std::vector<std::string> argv = {binary,        "--listen",         "127.0.0.1:0", "--control-listen",
                                   "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  pid_ = test_support::spawn(argv, {test_support::kNull, test_support::kNull, log_fd});
  ::close(log_fd);
  auto end = std::chrono::steady_clock::now() + limit;
  while (!ready() && std::chrono::steady_clock::now() < end && !wait_exit(std::chrono::milliseconds(0))) {
    std::istringstream lines(log());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("control plane listening on ") != std::string::npos) {
        control = address_after(line, "control plane listening on ");
      } else if (line.find("metrics listening on http://") != std::string::npos) {
        metrics = address_after(line, "metrics listening on http://");
      } else if (line.find("listening on ") != std::string::npos) {
        auto address = address_after(line, "listening on ");
        auto colon = address.rfind(':');
        if (colon != std::string::npos) {
          data_port = static_cast<std::uint16_t>(std::atoi(address.c_str() + colon + 1));
        }
      }
    }
    if (!ready()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ReactordProcess::~ReactordProcess() {
  if (!exit_code_) test_support::kill_and_reap(pid_);
  ::unlink(log_path_.c_str());
}

std::optional<int> ReactordProcess::wait_exit(std::chrono::milliseconds limit) {
  if (!exit_code_) exit_code_ = test_support::wait_for_exit(pid_, limit);
  return exit_code_;
}

std::string ReactordProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

ClientHolder::ClientHolder(const std::string& binary, std::uint16_t port)
    : process_({binary, std::to_string(port)}) {}

std::string ClientHolder::command(const std::string& line, std::chrono::milliseconds limit) {
  if (!process_.write_line(line)) return "";
  return process_.read_line(limit).value_or("");
}

std::vector<std::uint16_t> ClientHolder::ports(const std::string& group) {
  std::istringstream in(command("ports " + group));
  std::string ok;
  in >> ok;
  std::vector<std::uint16_t> out;
  if (ok != "ok") return out;
  for (unsigned p; in >> p;) out.push_back(static_cast<std::uint16_t>(p));
  return out;
}

std::optional<std::uint64_t> reply_field(const std::string& reply, const std::string& key) {
  auto at = reply.find(" " + key + "=");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoull(reply.c_str() + at + key.size() + 2, nullptr, 10);
}

}  // namespace reactord::scale
