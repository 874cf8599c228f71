// Event flags: what an Event waits for, and what fired. Values match libevent's EV_* so that
// a libevent user reads them the same way.
#pragma once

#include <cstdint>
#include <string>

namespace reactor {

using EventFlags = std::uint16_t;

inline constexpr EventFlags kTimeout = 0x01;  // EV_TIMEOUT: the timeout expired
inline constexpr EventFlags kRead = 0x02;     // EV_READ
inline constexpr EventFlags kWrite = 0x04;    // EV_WRITE
inline constexpr EventFlags kSignal = 0x08;   // EV_SIGNAL: fd() is a signal number
inline constexpr EventFlags kPersist = 0x10;  // EV_PERSIST: stays pending after it fires
inline constexpr EventFlags kET = 0x20;       // EV_ET: edge-triggered (epoll backend)
inline constexpr EventFlags kClosed = 0x80;   // EV_CLOSED: peer hang-up (EPOLLRDHUP)

// "READ|WRITE|PERSIST" — for logs, the control plane and test failure messages. Any thread.
std::string flags_to_string(EventFlags flags);

}  // namespace reactor
