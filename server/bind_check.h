// Whether an address can be bound, checked before anything is bound (so that a taken or
// foreign address is one clear line naming its flag, and no client is accepted by a process
// that then gives up). Any thread.
#pragma once

#include <optional>
#include <string>

#include "reactor/socket_address.h"

namespace reactord {

// nullopt if a plain socket (SO_REUSEADDR, no SO_REUSEPORT, as our listeners) can bind
// `address` right now (it is released at once). Otherwise one line:
// "--control-listen 127.0.0.1:50051: Address already in use (another process listens there)".
std::optional<std::string> bind_problem(const char* flag, const reactor::SocketAddress& address);

}  // namespace reactord
