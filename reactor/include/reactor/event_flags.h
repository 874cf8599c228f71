// Event flags: what an Event waits for, and what fired. Values match libevent's EV_* so that
// a libevent user reads them the same way; the type is its own (flag_set.h): a BevFlags, a
// BevCallbacks or a bare integer passed where EventFlags belong does not compile.
#pragma once

#include <cstdint>
#include <string>

#include "reactor/flag_set.h"

namespace reactor {

enum class EventFlags : std::uint16_t {
  kTimeout = 0x01,  // EV_TIMEOUT: the timeout expired
  kRead = 0x02,     // EV_READ
  kWrite = 0x04,    // EV_WRITE
  kSignal = 0x08,   // EV_SIGNAL: fd() is a signal number
  kPersist = 0x10,  // EV_PERSIST: stays pending after it fires
  kET = 0x20,       // EV_ET: edge-triggered (epoll backend)
  kClosed = 0x80,   // EV_CLOSED: peer hang-up (EPOLLRDHUP)
};
template <>
inline constexpr bool kIsFlagSet<EventFlags> = true;
// kRead, kWrite … unqualified, as libevent's EV_READ, EV_WRITE …; EventFlags{} is "none"
// (a pure timer's flags).
using enum EventFlags;

// "READ|WRITE|PERSIST" — for logs, the control plane and test failure messages. Any thread.
std::string flags_to_string(EventFlags flags);

}  // namespace reactor
