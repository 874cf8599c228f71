// A listening TCP socket for the echo service, opened apart from any loop so that a loop can
// (re)start accepting on it: at start, at Resume after a drain (which closed the listeners),
// and when a loop takes over accepting from a loop that ended. Any thread.
#pragma once

#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

namespace reactord {

// socket + SO_REUSEADDR (+ SO_REUSEPORT when reuse_port) + bind + listen(SOMAXCONN),
// non-blocking, close-on-exec. Throws std::system_error naming the step on failure.
reactor::UniqueFd open_listen_socket(const reactor::SocketAddress& address, bool reuse_port);

}  // namespace reactord
