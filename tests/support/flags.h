// Readable flag sets in test failure messages: with this header GoogleTest prints an
// EventFlags as "READ|WRITE" (flags_to_string) instead of its bytes. PrintTo is found by
// argument-dependent lookup, so it lives in the flags' namespace.
#pragma once

#include <ostream>

#include "reactor/event_flags.h"

namespace reactor {

inline void PrintTo(EventFlags flags, std::ostream* os) { *os << flags_to_string(flags); }

}  // namespace reactor
