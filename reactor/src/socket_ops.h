// Small socket helpers shared by the listener and BufferEvent. Internal to reactor_net.
#pragma once

namespace reactor {
namespace net {

// O_NONBLOCK on (true) or off. Returns false with errno on failure.
bool set_nonblocking(int fd, bool on = true);
bool is_nonblocking(int fd);

// The pending socket error (SO_ERROR), which also clears it; errno if getsockopt fails.
int take_socket_error(int fd);

// SO_LINGER {1, 0} then close: the peer sees a reset instead of a FIN.
void close_with_reset(int fd);

}  // namespace net
}  // namespace reactor
