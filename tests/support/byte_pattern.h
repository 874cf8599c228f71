// Test payloads that show a lost, repeated or reordered byte: a position-dependent pseudo-random
// sequence (a linear congruential generator), different for each seed, so two clients' streams
// never look alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace reactord::test_support {

// `n` bytes of the sequence of `seed`.
inline std::string byte_pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace reactord::test_support
