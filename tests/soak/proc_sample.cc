#include "proc_sample.h"

#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace reactord::soak {

ProcSample sample_process(pid_t pid, double seconds) {
  ProcSample s;
  s.seconds = seconds;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "VmRSS:") fields >> s.rss_kib;
    if (key == "Threads:") fields >> s.threads;
  }
  if (DIR* d = ::opendir((dir + "/fd").c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++s.fds;
    }
    ::closedir(d);
  }
  return s;
}

std::string to_string(const ProcSample& s) {
  char out[128];
  std::snprintf(out, sizeof out, "%5.0f s   RSS %6.1f MiB   threads %3d   fds %4d", s.seconds,
                static_cast<double>(s.rss_kib) / 1024.0, s.threads, s.fds);
  return out;
}

}  // namespace reactord::soak
