#include "server/listen_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include "reactor/sys_calls.h"

namespace reactord {

reactor::UniqueFd open_listen_socket(const reactor::SocketAddress& address, bool reuse_port) {
  auto fail = [](const char* what) { throw std::system_error(errno, std::generic_category(), what); };
  reactor::UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fail("socket");
  const int one = 1;
  if (reactor::sys().setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    fail("setsockopt(SO_REUSEADDR)");
  if (reuse_port && reactor::sys().setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    fail("setsockopt(SO_REUSEPORT)");
  }
  if (::bind(fd.get(), address.get(), address.length()) != 0) fail("bind");
  if (::listen(fd.get(), SOMAXCONN) != 0) fail("listen");
  return fd;
}

std::size_t accept_queue_length(int listen_fd, std::size_t fallback) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (reactor::sys().getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      info.tcpi_state != TCP_LISTEN) {
    return fallback;
  }
  return info.tcpi_unacked;
}

}  // namespace reactord
