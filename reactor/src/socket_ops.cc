#include "socket_ops.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "reactor/sys_calls.h"
namespace reactor::net {

bool set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return wanted == flags || ::fcntl(fd, F_SETFL, wanted) == 0;
}

bool is_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

int take_socket_error(int fd) {
  int error = 0;
  socklen_t len = sizeof(error);
  if (sys().getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
  return error;
}

void close_with_reset(int fd) {
  const linger lg{1, 0};
  sys().setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  sys().close(fd);
}

}  // namespace reactor::net
