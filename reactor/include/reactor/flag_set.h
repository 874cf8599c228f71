// Typed flag sets: an enum class whose enumerators are bits, given |, &, ^, ~ (and |=, &=,
// ^=) once it opts in with `template <> inline constexpr bool kIsFlagSet<E> = true;`.
//
// Why: libevent passes every set as a `short` or an `int` (EV_READ, BEV_EVENT_EOF,
// BEV_OPT_*), so BEV_EVENT_READING (0x01) handed to event_add's EV_* slot reads as
// EV_TIMEOUT and compiles. Here each set is its own type: passing BevFlags where EventFlags
// belong, or a bare integer, does not compile (tests/compile_fail/ proves it), and the
// operators combine only members of one set. The values stay libevent's, so the C API
// (reactor/compat) maps them at its boundary with one static_cast each way.
//
// An enum class does not convert to bool: test bits with any(flags & kRead) (or
// !any(...)), and get the number with bits() (for a log, a proto field, a table index).
// Header-only, constexpr; any thread.
#pragma once

#include <type_traits>

namespace reactor {

// Specialized to true beside each flag-set enum (event_flags.h, buffer_event.h).
template <typename E>
inline constexpr bool kIsFlagSet = false;

template <typename E>
concept FlagSet = std::is_enum_v<E> && kIsFlagSet<E>;

// The bits as their underlying integer.
template <FlagSet E>
constexpr std::underlying_type_t<E> bits(E flags) noexcept {
  return static_cast<std::underlying_type_t<E>>(flags);
}

// True when any bit is set: `if (any(what & kRead))` reads as libevent's `if (what & EV_READ)`.
template <FlagSet E>
constexpr bool any(E flags) noexcept {
  return bits(flags) != 0;
}

// True when every bit of `wanted` is set in `flags`.
template <FlagSet E>
constexpr bool all_of(E flags, E wanted) noexcept {
  return (bits(flags) & bits(wanted)) == bits(wanted);
}

template <FlagSet E>
constexpr E operator|(E a, E b) noexcept {
  return static_cast<E>(static_cast<std::underlying_type_t<E>>(bits(a) | bits(b)));
}
template <FlagSet E>
constexpr E operator&(E a, E b) noexcept {
  return static_cast<E>(static_cast<std::underlying_type_t<E>>(bits(a) & bits(b)));
}
template <FlagSet E>
constexpr E operator^(E a, E b) noexcept {
  return static_cast<E>(static_cast<std::underlying_type_t<E>>(bits(a) ^ bits(b)));
}
// Every bit not in `a`, of the whole underlying width: use it to clear (`f & ~kRead`).
template <FlagSet E>
constexpr E operator~(E a) noexcept {
  return static_cast<E>(static_cast<std::underlying_type_t<E>>(~bits(a)));
}
template <FlagSet E>
constexpr E& operator|=(E& a, E b) noexcept {
  return a = a | b;
}
template <FlagSet E>
constexpr E& operator&=(E& a, E b) noexcept {
  return a = a & b;
}
template <FlagSet E>
constexpr E& operator^=(E& a, E b) noexcept {
  return a = a ^ b;
}

}  // namespace reactor
