// sys() with nothing installed: the data path's calls reach the kernel directly (syscall(2),
// reactor/sys_calls.h: kDirectSyscalls outside sanitizer builds) and must keep the OS calls'
// contract exactly: byte counts, -1 with errno, EAGAIN on an empty non-blocking fd, EPIPE (no
// SIGPIPE) with MSG_NOSIGNAL, epoll_wait's ready list. Real fds: pipes and socket pairs.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "reactor/sys_calls.h"
#include "reactor/unique_fd.h"

namespace {

using reactor::sys;
using reactor::UniqueFd;

struct SocketPair {
  UniqueFd a, b;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

TEST(SysDispatch, ReadAndWriteOnAPipeKeepTheOsContract) {
  ASSERT_EQ(reactor::installed_sys_calls(), nullptr);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  EXPECT_EQ(sys().write(w.get(), "hello", 5), 5);
  char buf[16] = {};
  EXPECT_EQ(sys().read(r.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  errno = 0;
  EXPECT_EQ(sys().read(r.get(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  errno = 0;
  EXPECT_EQ(sys().read(-1, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EBADF);
  w.reset();
  EXPECT_EQ(sys().read(r.get(), buf, sizeof buf), 0);  // end of file
}

TEST(SysDispatch, VectorCallsAndEpollWaitOnASocketPair) {
  SocketPair p;
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_GE(ep.get(), 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = p.b.get();
  ASSERT_EQ(sys().epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.b.get(), &ev), 0);
  epoll_event out[4];
  EXPECT_EQ(sys().epoll_wait(ep.get(), out, 4, 0), 0);  // nothing to read yet

  char one[] = "abc", two[] = "defg";
  iovec iov[2] = {{one, 3}, {two, 4}};
  EXPECT_EQ(sys().writev(p.a.get(), iov, 2), 7);
  ASSERT_EQ(sys().epoll_wait(ep.get(), out, 4, 5000), 1);
  EXPECT_EQ(out[0].data.fd, p.b.get());
  EXPECT_TRUE(out[0].events & EPOLLIN);

  char x[2] = {}, y[8] = {};
  iovec in[2] = {{x, 2}, {y, 8}};
  EXPECT_EQ(sys().readv(p.b.get(), in, 2), 7);
  EXPECT_EQ(std::string(x, 2) + std::string(y, 5), "abcdefg");
  errno = 0;
  EXPECT_EQ(sys().epoll_wait(-1, out, 4, 0), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(SysDispatch, SendRecvAndSendmsgKeepTheOsContract) {
  SocketPair p;
  EXPECT_EQ(sys().send(p.a.get(), "ping", 4, MSG_NOSIGNAL), 4);
  char buf[8] = {};
  EXPECT_EQ(sys().recv(p.b.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  errno = 0;
  EXPECT_EQ(sys().recv(p.b.get(), buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);

  char data[] = "pong";
  iovec iov{data, 4};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  EXPECT_EQ(sys().sendmsg(p.b.get(), &msg, MSG_NOSIGNAL), 4);
  EXPECT_EQ(sys().recv(p.a.get(), buf, sizeof buf, MSG_PEEK), 4);  // flags reach the kernel
  EXPECT_EQ(sys().recv(p.a.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "pong");

  // The peer gone: EPIPE, and no SIGPIPE kills the test (MSG_NOSIGNAL reached the kernel).
  p.b.reset();
  errno = 0;
  EXPECT_EQ(sys().send(p.a.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

}  // namespace
