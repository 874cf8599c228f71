#include "reactor/fault_injector.h"

#include <bit>
#include <cerrno>

namespace reactor {
namespace {

std::size_t slot_of(std::uint32_t kind) { return static_cast<std::size_t>(std::countr_zero(kind)); }

constexpr const char* kNames[kSysCallKinds] = {
    "accept4",    "read", "readv",   "recv",       "write",      "writev",   "send",  "sendmsg", "epoll_ctl",
    "epoll_wait", "poll", "eventfd", "setsockopt", "getsockopt", "shutdown", "close", "malloc",  "pipe2",
};

}  // namespace

const char* sys_call_name(std::uint32_t kind) {
  const std::size_t slot = slot_of(kind);
  return std::has_single_bit(kind) && slot < kSysCallKinds ? kNames[slot] : "?";
}

void FaultInjector::fail(const FaultRule& rule) {
  std::lock_guard lock(mutex_);
  rules_.push_back(Armed{rule});
}

void FaultInjector::clear() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

std::uint64_t FaultInjector::calls(std::uint32_t kind) const {
  return calls_[slot_of(kind) % kSysCallKinds].load(std::memory_order_relaxed);
}

std::uint64_t FaultInjector::injected(std::uint32_t mask) const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < kSysCallKinds; ++i) {
    if ((mask & (1u << i)) != 0) n += injected_[i].load(std::memory_order_relaxed);
  }
  return n;
}

bool FaultInjector::exhausted() const {
  std::lock_guard lock(mutex_);
  for (const Armed& a : rules_) {
    if (a.rule.times == FaultRule::kEvery || a.failed < a.rule.times) return false;
  }
  return true;
}

int FaultInjector::check(std::uint32_t kind, int fd, std::size_t bytes) {
  const std::size_t slot = slot_of(kind);
  calls_[slot].fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  for (Armed& a : rules_) {
    const FaultRule& r = a.rule;
    if ((r.calls & kind) == 0) continue;
    if (kind == kSysMalloc) {
      if (bytes < r.min_bytes) continue;
    } else if (r.fd >= 0 && r.fd != fd) {
      continue;
    }
    const std::uint64_t number = ++a.seen;
    if (number < r.nth) continue;
    if (r.times != FaultRule::kEvery && a.failed >= r.times) continue;
    ++a.failed;
    injected_[slot].fetch_add(1, std::memory_order_relaxed);
    return r.error;
  }
  return 0;
}

#define REACTOR_FAULT(kind, fd, failed_value, call) \
  do {                                              \
    if (const int error = check(kind, fd)) {        \
      errno = error;                                \
      return failed_value;                          \
    }                                               \
    return call;                                    \
  } while (false)

int FaultInjector::accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  REACTOR_FAULT(kSysAccept4, fd, -1, OsSysCalls::accept4(fd, addr, len, flags));
}
ssize_t FaultInjector::read(int fd, void* buf, std::size_t len) {
  REACTOR_FAULT(kSysRead, fd, -1, OsSysCalls::read(fd, buf, len));
}
ssize_t FaultInjector::readv(int fd, const iovec* iov, int count) {
  REACTOR_FAULT(kSysReadv, fd, -1, OsSysCalls::readv(fd, iov, count));
}
ssize_t FaultInjector::recv(int fd, void* buf, std::size_t len, int flags) {
  REACTOR_FAULT(kSysRecv, fd, -1, OsSysCalls::recv(fd, buf, len, flags));
}
ssize_t FaultInjector::write(int fd, const void* buf, std::size_t len) {
  REACTOR_FAULT(kSysWrite, fd, -1, OsSysCalls::write(fd, buf, len));
}
ssize_t FaultInjector::writev(int fd, const iovec* iov, int count) {
  REACTOR_FAULT(kSysWritev, fd, -1, OsSysCalls::writev(fd, iov, count));
}
ssize_t FaultInjector::send(int fd, const void* buf, std::size_t len, int flags) {
  REACTOR_FAULT(kSysSend, fd, -1, OsSysCalls::send(fd, buf, len, flags));
}
ssize_t FaultInjector::sendmsg(int fd, const msghdr* msg, int flags) {
  REACTOR_FAULT(kSysSendmsg, fd, -1, OsSysCalls::sendmsg(fd, msg, flags));
}
int FaultInjector::epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  REACTOR_FAULT(kSysEpollCtl, fd, -1, OsSysCalls::epoll_ctl(epfd, op, fd, event));
}
int FaultInjector::epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) {
  REACTOR_FAULT(kSysEpollWait, epfd, -1, OsSysCalls::epoll_wait(epfd, events, max_events, timeout_ms));
}
int FaultInjector::poll(pollfd* fds, nfds_t count, int timeout_ms) {
  REACTOR_FAULT(kSysPoll, -1, -1, OsSysCalls::poll(fds, count, timeout_ms));
}
int FaultInjector::eventfd(unsigned int initval, int flags) {
  REACTOR_FAULT(kSysEventfd, -1, -1, OsSysCalls::eventfd(initval, flags));
}
int FaultInjector::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  REACTOR_FAULT(kSysSetsockopt, fd, -1, OsSysCalls::setsockopt(fd, level, name, value, len));
}
int FaultInjector::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  REACTOR_FAULT(kSysGetsockopt, fd, -1, OsSysCalls::getsockopt(fd, level, name, value, len));
}
int FaultInjector::shutdown(int fd, int how) {
  REACTOR_FAULT(kSysShutdown, fd, -1, OsSysCalls::shutdown(fd, how));
}
int FaultInjector::close(int fd) {
  if (const int error = check(kSysClose, fd)) {
    OsSysCalls::close(fd);  // Linux: the fd is gone whatever close reports
    errno = error;
    return -1;
  }
  return OsSysCalls::close(fd);
}
void* FaultInjector::malloc(std::size_t size) {
  if (const int error = check(kSysMalloc, -1, size)) {
    errno = error;
    return nullptr;
  }
  return OsSysCalls::malloc(size);
}

int FaultInjector::pipe2(int fds[2], int flags) {
  if (const int error = check(kSysPipe2, -1)) {
    errno = error;
    return -1;
  }
  return OsSysCalls::pipe2(fds, flags);
}

#undef REACTOR_FAULT

}  // namespace reactor
