// SysCalls: the seam between the reactor (and reactord) and the kernel, modelled on Envoy's
// OsSysCalls. Every system call the loop, the Buffer, the Listener and BufferEvent make on the
// data path (and the post() wakeup eventfd and the signal self-pipe) goes through `sys()`, so that a test can
// put a fault injector in front of the OS (reactor/fault_injector.h) and fail the N-th accept4 with EMFILE, a
// read with ECONNRESET, a Buffer block allocation with ENOMEM...
//
// Cost when nothing is installed (production): `sys().read(...)` is an inline check of one
// thread-local pointer, then the direct ::read call — no virtual call, no lock.
//
// Installation is per thread (one event base per thread, so this is also per base): a test
// installs its SysCalls on the thread that runs the loop it wants to hurt, and other threads
// (other loops, the test thread) keep talking to the OS. Nothing is shared, so TSan stays quiet.
#pragma once

#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>

#include "reactor/direct_syscall.h"
#include "reactor/sanitizer_build.h"

namespace reactor {

// The interface: one method per system call, with the OS's signature and errno convention
// (-1 / nullptr and errno set). Implementations must be usable from the thread they are
// installed on; the reactor never calls one from another thread.
class SysCalls {
 public:
  virtual ~SysCalls() = default;
  virtual int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) = 0;
  virtual ssize_t read(int fd, void* buf, std::size_t len) = 0;
  virtual ssize_t readv(int fd, const iovec* iov, int count) = 0;
  virtual ssize_t recv(int fd, void* buf, std::size_t len, int flags) = 0;
  virtual ssize_t write(int fd, const void* buf, std::size_t len) = 0;
  virtual ssize_t writev(int fd, const iovec* iov, int count) = 0;
  virtual ssize_t send(int fd, const void* buf, std::size_t len, int flags) = 0;
  virtual ssize_t sendmsg(int fd, const msghdr* msg, int flags) = 0;
  virtual int epoll_ctl(int epfd, int op, int fd, epoll_event* event) = 0;
  virtual int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) = 0;
  virtual int poll(pollfd* fds, nfds_t count, int timeout_ms) = 0;
  virtual int eventfd(unsigned int initval, int flags) = 0;
  virtual int pipe2(int fds[2], int flags) = 0;
  virtual int setsockopt(int fd, int level, int name, const void* value, socklen_t len) = 0;
  virtual int getsockopt(int fd, int level, int name, void* value, socklen_t* len) = 0;
  virtual int shutdown(int fd, int how) = 0;
  // As on Linux, the fd is released even when close reports an error.
  virtual int close(int fd) = 0;
  // Buffer block memory (released with std::free). nullptr means out of memory.
  virtual void* malloc(std::size_t size) = 0;
  // The base's clock (CLOCK_MONOTONIC or its coarse twin): a test steps time with a manual
  // clock installed here instead of sleeping through timeouts and token-bucket ticks.
  virtual int clock_gettime(clockid_t clock, timespec* ts) = 0;
};

// The default: straight to the OS. Derive from it to override a few calls (a fault injector
// fails some and passes the rest on).
class OsSysCalls : public SysCalls {
 public:
  int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) override {
    return ::accept4(fd, addr, len, flags);
  }
  ssize_t read(int fd, void* buf, std::size_t len) override { return ::read(fd, buf, len); }
  ssize_t readv(int fd, const iovec* iov, int count) override { return ::readv(fd, iov, count); }
  ssize_t recv(int fd, void* buf, std::size_t len, int flags) override { return ::recv(fd, buf, len, flags); }
  ssize_t write(int fd, const void* buf, std::size_t len) override { return ::write(fd, buf, len); }
  ssize_t writev(int fd, const iovec* iov, int count) override { return ::writev(fd, iov, count); }
  ssize_t send(int fd, const void* buf, std::size_t len, int flags) override {
    return ::send(fd, buf, len, flags);
  }
  ssize_t sendmsg(int fd, const msghdr* msg, int flags) override { return ::sendmsg(fd, msg, flags); }
  int epoll_ctl(int epfd, int op, int fd, epoll_event* event) override {
    return ::epoll_ctl(epfd, op, fd, event);
  }
  int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) override {
    return ::epoll_wait(epfd, events, max_events, timeout_ms);
  }
  int poll(pollfd* fds, nfds_t count, int timeout_ms) override { return ::poll(fds, count, timeout_ms); }
  int eventfd(unsigned int initval, int flags) override { return ::eventfd(initval, flags); }
  int pipe2(int fds[2], int flags) override { return ::pipe2(fds, flags); }
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len) override {
    return ::setsockopt(fd, level, name, value, len);
  }
  int getsockopt(int fd, int level, int name, void* value, socklen_t* len) override {
    return ::getsockopt(fd, level, name, value, len);
  }
  int shutdown(int fd, int how) override { return ::shutdown(fd, how); }
  int close(int fd) override { return ::close(fd); }
  void* malloc(std::size_t size) override { return std::malloc(size); }
  int clock_gettime(clockid_t clock, timespec* ts) override { return ::clock_gettime(clock, ts); }
};

namespace detail {
// The calling thread's installed SysCalls; nullptr = the OS (the common case).
extern constinit thread_local SysCalls* t_sys_calls;
}  // namespace detail

// Installs `calls` for the calling thread (nullptr: back to the OS) and returns the previous
// one. The caller keeps `calls` alive until it is uninstalled. Calling thread only.
SysCalls* install_sys_calls(SysCalls* calls);
// The calling thread's installed SysCalls, or nullptr. Calling thread only.
inline SysCalls* installed_sys_calls() { return detail::t_sys_calls; }

// Installs for the calling thread for its lifetime, then restores what was there before.
// Construct and destroy on the same thread.
class ScopedSysCalls {
 public:
  explicit ScopedSysCalls(SysCalls& calls) : previous_(install_sys_calls(&calls)) {}
  ~ScopedSysCalls() { install_sys_calls(previous_); }
  ScopedSysCalls(const ScopedSysCalls&) = delete;
  ScopedSysCalls& operator=(const ScopedSysCalls&) = delete;

 private:
  SysCalls* previous_;
};

namespace detail {
// The data path's calls (read, readv, recv, write, writev, send, sendmsg, epoll_wait) go to
// the kernel through one inline `syscall` instruction (direct_syscall.h), not through glibc's
// wrappers: in a process with more than one thread (reactord always has several) each wrapper
// is a cancellation point that flips the thread's cancellation state with two atomic
// operations around the call — ~60 instructions per call, about 10 % of the reactor's
// user-space work per echoed message (callgrind, docs/PERFORMANCE.md). glibc's syscall()
// would still be a call that shifts its arguments: one more ~10 per call. The reactor never
// cancels a thread, so nothing is lost. Under a
// sanitizer the wrappers stay: ASan checks the buffers in them and TSan takes its
// happens-before edges between threads that talk through an fd from them.
inline constexpr bool kDirectSyscalls = !(REACTOR_ASAN_BUILD || REACTOR_TSAN_BUILD || REACTOR_MSAN_BUILD);
}  // namespace detail

// What call sites use: `sys().read(fd, buf, len)`. Each method is the OS call unless this
// thread has a SysCalls installed. Calling thread only (it reads the calling thread's hook).
class SysDispatch {
 public:
  int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->accept4(fd, addr, len, flags);
    return ::accept4(fd, addr, len, flags);
  }
  ssize_t read(int fd, void* buf, std::size_t len) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->read(fd, buf, len);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_read, fd, detail::ptr_arg(buf), static_cast<long>(len));
    return ::read(fd, buf, len);
  }
  ssize_t readv(int fd, const iovec* iov, int count) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->readv(fd, iov, count);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_readv, fd, detail::ptr_arg(iov), count);
    return ::readv(fd, iov, count);
  }
  ssize_t recv(int fd, void* buf, std::size_t len, int flags) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->recv(fd, buf, len, flags);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_recvfrom, fd, detail::ptr_arg(buf), static_cast<long>(len), flags, 0,
                                    0);
    return ::recv(fd, buf, len, flags);
  }
  ssize_t write(int fd, const void* buf, std::size_t len) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->write(fd, buf, len);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_write, fd, detail::ptr_arg(buf), static_cast<long>(len));
    return ::write(fd, buf, len);
  }
  ssize_t writev(int fd, const iovec* iov, int count) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->writev(fd, iov, count);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_writev, fd, detail::ptr_arg(iov), count);
    return ::writev(fd, iov, count);
  }
  ssize_t send(int fd, const void* buf, std::size_t len, int flags) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->send(fd, buf, len, flags);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_sendto, fd, detail::ptr_arg(buf), static_cast<long>(len), flags, 0,
                                    0);
    return ::send(fd, buf, len, flags);
  }
  ssize_t sendmsg(int fd, const msghdr* msg, int flags) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->sendmsg(fd, msg, flags);
    if constexpr (detail::kDirectSyscalls)
      return detail::direct_syscall(SYS_sendmsg, fd, detail::ptr_arg(msg), flags);
    return ::sendmsg(fd, msg, flags);
  }
  int epoll_ctl(int epfd, int op, int fd, epoll_event* event) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->epoll_ctl(epfd, op, fd, event);
    return ::epoll_ctl(epfd, op, fd, event);
  }
  int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->epoll_wait(epfd, events, max_events, timeout_ms);
    if constexpr (detail::kDirectSyscalls)
      return static_cast<int>(detail::direct_syscall(SYS_epoll_wait, epfd, detail::ptr_arg(events),
                                                     max_events, timeout_ms, 0, 0));
    return ::epoll_wait(epfd, events, max_events, timeout_ms);
  }
  int poll(pollfd* fds, nfds_t count, int timeout_ms) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->poll(fds, count, timeout_ms);
    return ::poll(fds, count, timeout_ms);
  }
  int eventfd(unsigned int initval, int flags) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->eventfd(initval, flags);
    return ::eventfd(initval, flags);
  }
  int pipe2(int fds[2], int flags) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->pipe2(fds, flags);
    return ::pipe2(fds, flags);
  }
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->setsockopt(fd, level, name, value, len);
    return ::setsockopt(fd, level, name, value, len);
  }
  int getsockopt(int fd, int level, int name, void* value, socklen_t* len) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->getsockopt(fd, level, name, value, len);
    return ::getsockopt(fd, level, name, value, len);
  }
  int shutdown(int fd, int how) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->shutdown(fd, how);
    return ::shutdown(fd, how);
  }
  int close(int fd) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->close(fd);
    return ::close(fd);
  }
  void* malloc(std::size_t size) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->malloc(size);
    return std::malloc(size);
  }
  int clock_gettime(clockid_t clock, timespec* ts) const {
    if (SysCalls* s = detail::t_sys_calls) [[unlikely]]
      return s->clock_gettime(clock, ts);
    return ::clock_gettime(clock, ts);
  }
};

// The calling thread's system calls. Calling thread only.
inline SysDispatch sys() { return {}; }

}  // namespace reactor
