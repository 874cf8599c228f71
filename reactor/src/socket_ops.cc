#include "socket_ops.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "reactor/buffer.h"

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
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
  return error;
}

void close_with_reset(int fd) {
  const linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  ::close(fd);
}

ssize_t send_from(Buffer& buffer, int fd, std::size_t max_bytes) {
  // Enough iovecs for 64 blocks per call; a longer chain is sent over several calls.
  constexpr std::size_t kMaxIov = 64;
  const std::size_t want = std::min(max_bytes, buffer.length());
  if (want == 0) return 0;
  const auto spans = buffer.peek(want);
  iovec iov[kMaxIov];
  std::size_t count = 0;
  for (const auto& span : spans) {
    if (count == kMaxIov) break;
    if (span.empty()) continue;
    iov[count].iov_base = const_cast<std::byte*>(span.data());
    iov[count].iov_len = span.size();
    ++count;
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    // Not a socket (a pipe given to a BufferEvent): plain writev.
    if (n < 0 && errno == ENOTSOCK) n = ::writev(fd, iov, static_cast<int>(count));
  } while (n < 0 && errno == EINTR);
  if (n > 0) buffer.drain(static_cast<std::size_t>(n));
  return n;
}

}  // namespace reactor::net
