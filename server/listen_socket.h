// A listening TCP socket for the echo service, opened apart from any loop so that a loop can
// (re)start accepting on it: at start, at Resume after a drain (which closed the listeners),
// and when a loop takes over accepting from a loop that ended. Any thread.
#pragma once

#include <cstddef>

#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

namespace reactord {

// socket + SO_REUSEADDR (+ SO_REUSEPORT when reuse_port) + bind + listen(SOMAXCONN),
// non-blocking, close-on-exec. Throws std::system_error naming the step on failure.
reactor::UniqueFd open_listen_socket(const reactor::SocketAddress& address, bool reuse_port);

// How many connections wait in the listening socket's accept queue now (handshakes complete,
// not yet accepted): TCP_INFO's tcpi_unacked, which Linux reports for a listener as its
// sk_ack_backlog. `fallback` if the kernel does not say. Any thread.
std::size_t accept_queue_length(int listen_fd, std::size_t fallback);

}  // namespace reactord
