// read_block_ab: Buffer::read_from with the thread's spare read block (issue #19) against a
// block allocated and trimmed per read, as before — a pass-through OsSysCalls installed on the
// thread selects that path (it costs a virtual call per read and per malloc, a few ns, against
// the per-read arm). 64-byte and 4096-byte messages through a socketpair, read, moved to an
// output Buffer and drained, as an echo does; 9 pairs of rounds of 100,000 messages, the two
// arms alternating; CPU time (user + sys, and user alone) of this thread per message, and the
// median and range of the per-pair ratios. Run by hand on a release build:
//   build/release/bench/read_block_ab
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>
#include "reactor/buffer.h"
#include "reactor/sys_calls.h"
using namespace reactor;
static double g_user = 0;  // user CPU ns/msg of the last round
static double round_ns(int fd_w, int fd_r, std::size_t size, int n) {
  std::vector<char> msg(size, 'x');
  Buffer in, out;
  rusage u0, u1;
  getrusage(RUSAGE_THREAD, &u0);
  for (int i = 0; i < n; ++i) {
    if (::write(fd_w, msg.data(), size) != (ssize_t)size) return -1;
    std::size_t got = 0;
    while (got < size) {
      ssize_t r = in.read_from(fd_r);
      if (r <= 0) return -1;
      got += r;
    }
    out.append_buffer(in);
    out.drain(out.length());
  }
  getrusage(RUSAGE_THREAD, &u1);
  auto us = [](const timeval& a, const timeval& b) {
    return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_usec - a.tv_usec);
  };
  g_user += us(u0.ru_utime, u1.ru_utime) * 1000 / n;
  return (us(u0.ru_utime, u1.ru_utime) + us(u0.ru_stime, u1.ru_stime)) * 1000 / n;
}
int main() {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  OsSysCalls os;
  for (std::size_t size : {64, 4096}) {
    std::vector<double> spare, per_read, su, pu;
    for (int r = 0; r < 9; ++r) {
      g_user = 0;
      spare.push_back(round_ns(sv[1], sv[0], size, 100000));
      su.push_back(g_user);
      {
        ScopedSysCalls s(os);
        g_user = 0;
        per_read.push_back(round_ns(sv[1], sv[0], size, 100000));
        pu.push_back(g_user);
      }
    }
    std::vector<double> ratio;
    for (int r = 0; r < 9; ++r) ratio.push_back(spare[r] / per_read[r]);
    std::sort(ratio.begin(), ratio.end());
    std::sort(spare.begin(), spare.end());
    std::sort(per_read.begin(), per_read.end());
    std::sort(su.begin(), su.end());
    std::sort(pu.begin(), pu.end());
    std::printf(
        "%zu B: CPU (user+sys) spare %.0f ns/msg, per-read block %.0f ns/msg; user only %.0f vs %.0f; paired "
        "ratio median %.3f (%.3f-%.3f)\n",
        size, spare[4], per_read[4], su[4], pu[4], ratio[4], ratio[0], ratio[8]);
  }
}
