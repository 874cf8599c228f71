// What the soak suite watches in reactord: its resident memory, threads and open file
// descriptors, read from /proc/<pid> (status: VmRSS, Threads; fd/: one entry per open fd).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace reactord::soak {

struct ProcSample {
  double seconds = 0;  // since the soak started
  std::uint64_t rss_kib = 0;
  int threads = 0;
  int fds = 0;
};

// A sample of process `pid` now; rss_kib 0 when /proc/<pid> is gone.
ProcSample sample_process(pid_t pid, double seconds);

// "  60 s   RSS 24.1 MiB   threads 41   fds 58"
std::string to_string(const ProcSample& s);

}  // namespace reactord::soak
