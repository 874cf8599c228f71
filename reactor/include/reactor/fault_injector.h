// FaultInjector: a SysCalls (reactor/sys_calls.h) that fails chosen system calls with a chosen
// errno and passes every other call to the OS — the test half of the OsSysCalls seam.
//
//   reactor::FaultInjector faults;
//   faults.fail({.calls = reactor::kSysAnyRead, .error = ECONNRESET, .fd = server_side_fd});
//   reactor::ScopedSysCalls on_this_thread(faults);   // or install_sys_calls() on a loop thread
//
// A rule matches a call by kind (a mask: several kinds at once), optionally by fd (or, for
// malloc, by a minimum size). Counting matching calls from 1, it fails call number `nth` and
// the `times - 1` matching calls after it (kEvery: every one from `nth` on). A failed call
// does nothing and returns -1 (nullptr for malloc) with errno = error, except close, which
// closes the fd first (Linux releases the fd even when close reports an error).
//
// Thread rule: install it on one thread (the loop's); fail(), clear() and the counters may be
// used from any thread (a mutex guards the rules, the counters are atomic).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

#include "reactor/sys_calls.h"

namespace reactor {

// Kinds of system call, as a mask.
enum SysCallKind : std::uint32_t {
  kSysAccept4 = 1u << 0,
  kSysRead = 1u << 1,
  kSysReadv = 1u << 2,
  kSysRecv = 1u << 3,
  kSysWrite = 1u << 4,
  kSysWritev = 1u << 5,
  kSysSend = 1u << 6,
  kSysSendmsg = 1u << 7,
  kSysEpollCtl = 1u << 8,
  kSysEpollWait = 1u << 9,
  kSysPoll = 1u << 10,
  kSysEventfd = 1u << 11,
  kSysSetsockopt = 1u << 12,
  kSysGetsockopt = 1u << 13,
  kSysShutdown = 1u << 14,
  kSysClose = 1u << 15,
  kSysMalloc = 1u << 16,
  kSysPipe2 = 1u << 17,
  // Buffer::read_from uses read or readv (one span or two); a graceful close reads with recv.
  kSysAnyRead = kSysRead | kSysReadv | kSysRecv,
  // Buffer::write_to uses send or sendmsg on sockets, writev elsewhere.
  kSysAnyWrite = kSysWrite | kSysWritev | kSysSend | kSysSendmsg,
};
inline constexpr std::size_t kSysCallKinds = 18;

// "accept4", "read", ... for one kind (a single bit). Any thread.
const char* sys_call_name(std::uint32_t kind);

struct FaultRule {
  static constexpr std::uint64_t kEvery = std::numeric_limits<std::uint64_t>::max();
  std::uint32_t calls = 0;    // SysCallKind mask
  int error = 0;              // the errno the failed call reports
  std::uint64_t nth = 1;      // the first matching call that fails (1: the next one)
  std::uint64_t times = 1;    // how many matching calls fail from nth on (kEvery: all)
  int fd = -1;                // only calls on this fd (-1: any fd); ignored for malloc
  std::size_t min_bytes = 0;  // malloc only: only allocations of at least this size
};

class FaultInjector : public OsSysCalls {
 public:
  // Adds a rule; rules are checked in the order added, the first that fails a call wins (each
  // rule counts its own matching calls). Any thread.
  void fail(const FaultRule& rule);
  // Removes every rule (counters stay). Any thread.
  void clear();
  // Calls of `kind` (one bit) seen while installed, failed or not. Any thread.
  std::uint64_t calls(std::uint32_t kind) const;
  // Calls of any kind in `mask` that were failed. Any thread.
  std::uint64_t injected(std::uint32_t mask = ~0u) const;
  // True once every rule has failed all the calls it was set to fail (kEvery rules never are).
  // Any thread.
  bool exhausted() const;

  int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) override;
  ssize_t read(int fd, void* buf, std::size_t len) override;
  ssize_t readv(int fd, const iovec* iov, int count) override;
  ssize_t recv(int fd, void* buf, std::size_t len, int flags) override;
  ssize_t write(int fd, const void* buf, std::size_t len) override;
  ssize_t writev(int fd, const iovec* iov, int count) override;
  ssize_t send(int fd, const void* buf, std::size_t len, int flags) override;
  ssize_t sendmsg(int fd, const msghdr* msg, int flags) override;
  int epoll_ctl(int epfd, int op, int fd, epoll_event* event) override;
  int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) override;
  int poll(pollfd* fds, nfds_t count, int timeout_ms) override;
  int eventfd(unsigned int initval, int flags) override;
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len) override;
  int getsockopt(int fd, int level, int name, void* value, socklen_t* len) override;
  int shutdown(int fd, int how) override;
  int close(int fd) override;
  void* malloc(std::size_t size) override;
  // Fails with errno and no fds made.
  int pipe2(int fds[2], int flags) override;

 private:
  struct Armed {
    FaultRule rule;
    std::uint64_t seen = 0;
    std::uint64_t failed = 0;
  };
  // Counts the call; returns the errno to fail it with, or 0 to let it through.
  int check(std::uint32_t kind, int fd, std::size_t bytes = 0);

  mutable std::mutex mutex_;
  std::vector<Armed> rules_;
  std::array<std::atomic<std::uint64_t>, kSysCallKinds> calls_{};
  std::array<std::atomic<std::uint64_t>, kSysCallKinds> injected_{};
};

}  // namespace reactor
