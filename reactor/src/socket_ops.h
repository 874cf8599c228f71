// Small socket helpers shared by the listener and BufferEvent. Internal to reactor_net.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace reactor {
class Buffer;
namespace net {

// O_NONBLOCK on (true) or off. Returns false with errno on failure.
bool set_nonblocking(int fd, bool on = true);
bool is_nonblocking(int fd);

// The pending socket error (SO_ERROR), which also clears it; errno if getsockopt fails.
int take_socket_error(int fd);

// SO_LINGER {1, 0} then close: the peer sees a reset instead of a FIN.
void close_with_reset(int fd);

// Sends up to max_bytes from the front of `buffer` with one sendmsg(MSG_NOSIGNAL) — a peer
// that went away gives EPIPE, never SIGPIPE — and drains what was sent. Returns the bytes sent
// or -1 with errno (EAGAIN included).
ssize_t send_from(Buffer& buffer, int fd, std::size_t max_bytes);

}  // namespace net
}  // namespace reactor
