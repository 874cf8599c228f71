#include "server/bind_check.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reactord {

std::optional<std::string> bind_problem(const char* flag, const reactor::SocketAddress& address) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  int error = fd < 0 ? errno : 0;
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, address.get(), address.length()) != 0) error = errno;
    ::close(fd);
  }
  if (error == 0) return std::nullopt;
  std::string why = std::strerror(error);
  if (error == EADDRINUSE)
    why += " (another process listens there)";
  else if (error == EADDRNOTAVAIL)
    why = "not an address of this machine (" + why + ")";
  else if (error == EACCES)
    why = "permission denied (ports below 1024 need privileges)";
  return std::string(flag) + " " + address.to_string() + ": " + why;
}

}  // namespace reactord
