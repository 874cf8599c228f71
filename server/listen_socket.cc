#include "server/listen_socket.h"

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

}  // namespace reactord
