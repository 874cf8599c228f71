// epoll_echo: the raw epoll floor of the echo benchmark. Level-triggered epoll, accept until
// EAGAIN, the greeting on connect, then per wakeup one read() and one send() of what was read.
// Output the socket does not take is kept per connection and flushed on EPOLLOUT, so that it
// stays correct under load; nothing else — no timers, no buffers, no callbacks.
// SIGINT/SIGTERM end it (default action).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "echo_args.h"

namespace {

// Output not yet taken by the socket, by fd (empty for almost every connection).
std::vector<std::string> g_pending;

void close_conn(int fd) {
  if (static_cast<std::size_t>(fd) < g_pending.size()) g_pending[fd].clear();
  ::close(fd);  // also removes it from the epoll set
}

// Sends data, keeping what the socket does not take. Returns false if the connection broke.
bool send_or_queue(int ep, int fd, const char* data, std::size_t len) {
  std::string& pending = g_pending[fd];
  if (!pending.empty()) {
    pending.append(data, len);  // keep order: EPOLLOUT is already armed
    return true;
  }
  ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN) return false;
    n = 0;
  }
  if (static_cast<std::size_t>(n) < len) {
    pending.assign(data + n, len - static_cast<std::size_t>(n));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  }
  return true;
}

bool flush_pending(int ep, int fd) {
  std::string& pending = g_pending[fd];
  ssize_t n = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN;
  pending.erase(0, static_cast<std::size_t>(n));
  if (pending.empty()) {
    std::string().swap(pending);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  }
  return true;
}

void accept_all(int ep, int listen_fd, const std::string& greeting) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or EMFILE etc.: try again on the next wakeup
    if (static_cast<std::size_t>(fd) >= g_pending.size()) g_pending.resize(fd + 1024);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0 ||
        !send_or_queue(ep, fd, greeting.data(), greeting.size())) {
      close_conn(fd);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::EchoArgs args = bench::parse_echo_args(argc, argv);
  int listen_fd = bench::listen_loopback(args);
  bench::start_idle_threads(args);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = listen_fd;
  if (ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev) != 0) {
    std::perror("epoll_echo: epoll");
    return 1;
  }
  std::vector<epoll_event> ready(256);
  static char buf[64 * 1024];
  for (;;) {
    int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), -1);
    if (n < 0 && errno != EINTR) {
      std::perror("epoll_echo: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      int fd = ready[i].data.fd;
      if (fd == listen_fd) {
        accept_all(ep, listen_fd, args.greeting);
        continue;
      }
      if ((ready[i].events & EPOLLOUT) && !flush_pending(ep, fd)) {
        close_conn(fd);
        continue;
      }
      if (ready[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t got = ::read(fd, buf, sizeof(buf));
        if (got == 0 || (got < 0 && errno != EAGAIN) ||
            (got > 0 && !send_or_queue(ep, fd, buf, static_cast<std::size_t>(got)))) {
          close_conn(fd);
        }
      }
    }
  }
}
