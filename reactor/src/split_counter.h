// A 64-bit counter kept as two 32-bit halves: the low half in an object every connection has,
// the high half in one allocated only when needed (BufferEvent's byte counters: the high half
// lives in Extras from the first 4 GiB on, 8 bytes per idle connection less; issue #19).
#pragma once

#include <cstddef>
#include <cstdint>

namespace reactor::detail {

// Adds n to `low`; returns what carries into the high half (0 unless low wrapped).
inline std::uint32_t add_to_low_half(std::uint32_t& low, std::size_t n) {
  const std::uint64_t sum = std::uint64_t{low} + n;
  low = static_cast<std::uint32_t>(sum);
  return static_cast<std::uint32_t>(sum >> 32);
}

inline std::uint64_t join_halves(std::uint32_t high, std::uint32_t low) {
  return (std::uint64_t{high} << 32) | low;
}

}  // namespace reactor::detail
