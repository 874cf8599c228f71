// Readable flag sets in test failure messages: with this header GoogleTest prints an
// EventFlags as "READ|WRITE" (flags_to_string), a BevFlags as "EOF|READING" and a
// BevCallbacks as "READ|EVENT" instead of their bytes. PrintTo is found by
// argument-dependent lookup, so it lives in the flags' namespace.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>

#include "reactor/buffer_event.h"
#include "reactor/event_flags.h"

namespace reactor {

namespace test_flag_names {
// Names of the set bits of `flags` joined by '|', unnamed bits in hex, "0" for none.
template <typename E>
std::string join(E flags, std::initializer_list<std::pair<E, const char*>> names) {
  if (!any(flags)) return "0";
  std::string out;
  for (const auto& [bit, name] : names) {
    if (!any(flags & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
    flags &= ~bit;
  }
  if (any(flags)) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(bits(flags)));
    if (!out.empty()) out += '|';
    out += hex;
  }
  return out;
}
}  // namespace test_flag_names

inline void PrintTo(EventFlags flags, std::ostream* os) { *os << flags_to_string(flags); }

inline void PrintTo(BevFlags flags, std::ostream* os) {
  *os << test_flag_names::join(flags, {{kBevEof, "EOF"},
                                       {kBevError, "ERROR"},
                                       {kBevTimeout, "TIMEOUT"},
                                       {kBevConnected, "CONNECTED"},
                                       {kBevReading, "READING"},
                                       {kBevWriting, "WRITING"}});
}

inline void PrintTo(BevCallbacks which, std::ostream* os) {
  *os << test_flag_names::join(which, {{kBevCbRead, "READ"}, {kBevCbWrite, "WRITE"}, {kBevCbEvent, "EVENT"}});
}

}  // namespace reactor
