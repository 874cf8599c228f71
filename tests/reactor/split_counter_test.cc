// BufferEvent's byte counters keep their low 32 bits per connection and the high 32 bits
// elsewhere (reactor/src/split_counter.h): the carry must not lose a byte across 4 GiB.
#include "split_counter.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using reactor::detail::add_to_low_half;
using reactor::detail::join_halves;

TEST(SplitCounter, CarriesIntoTheHighHalfWhenTheLowHalfWraps) {
  std::uint32_t high = 0;
  std::uint32_t low = 0xFFFF'FF00U;
  high += add_to_low_half(low, 0x100);  // exactly 4 GiB
  EXPECT_EQ(join_halves(high, low), 0x1'0000'0000ULL);
  high += add_to_low_half(low, 256 * 1024);  // one send chunk more: no carry
  EXPECT_EQ(high, 1U);
  EXPECT_EQ(join_halves(high, low), 0x1'0000'0000ULL + 256 * 1024);
}

TEST(SplitCounter, ManyReadsAcrossSeveralWrapsAddUp) {
  std::uint32_t high = 0;
  std::uint32_t low = 0;
  std::uint64_t expected = 0;
  const std::uint64_t chunk = 64 * 1024 - 3;  // not a divisor of 2^32: wraps land mid-chunk
  for (int i = 0; i < 200'000; ++i) {
    high += add_to_low_half(low, chunk);
    expected += chunk;
  }
  EXPECT_GT(expected, 3ULL << 32);
  EXPECT_EQ(join_halves(high, low), expected);
}

}  // namespace
