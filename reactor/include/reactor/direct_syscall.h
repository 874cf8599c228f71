// direct_syscall: the data path's system calls as one inline `syscall` instruction (x86-64),
// with glibc's syscall(2) convention kept: -1 and errno on failure.
//
// Why not glibc's syscall(): it is an out-of-line function that moves its six arguments one
// register over, then checks the result and sets errno, ~10 instructions and a call per system
// call; the echo makes three per message (read, sendto, epoll_wait). Inline, the arguments are
// loaded straight into the registers the kernel reads and only a failure touches errno
// (issue #19: callgrind per message, docs/PERFORMANCE.md). Other architectures keep syscall().
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace reactor::detail {

// The kernel's result: a value, or -errno in [-4095, -1] (the x86-64 and generic ABI).
inline long syscall_result(long r) {
  if (r < 0 && r > -4096) [[unlikely]] {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}

#if defined(__x86_64__)
// rcx and r11 are clobbered by the instruction (return address, flags); "memory": the kernel
// reads and writes the buffers the arguments point to.
inline long direct_syscall(long n, long a1, long a2, long a3) {
  long r = 0;
  asm volatile("syscall" : "=a"(r) : "a"(n), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
  return syscall_result(r);
}

inline long direct_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6) {
  long r = 0;
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  asm volatile("syscall"
               : "=a"(r)
               : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return syscall_result(r);
}
#else
inline long direct_syscall(long n, long a1, long a2, long a3) { return ::syscall(n, a1, a2, a3); }
inline long direct_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6) {
  return ::syscall(n, a1, a2, a3, a4, a5, a6);
}
#endif

// A pointer as the kernel's long argument.
inline long ptr_arg(const void* p) { return reinterpret_cast<long>(p); }

}  // namespace reactor::detail
