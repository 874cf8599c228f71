// A DurationHistogram's bucket for a duration, and a record of it inline. The loop records
// twice per iteration (the poll wait, each callback): its records skip the call and, up to
// 256 us, the search over the bounds (issue #19). DurationHistogram::record (inspection.cc)
// is the same code out of line.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "reactor/inspection.h"

namespace reactor::detail {

// The first bucket whose bound holds `us` (us <= bound); kBoundsUs.size() for +Inf. Up to
// 256 us the bounds are 4^i, so the bucket is ceil(log4(us)), from the bit width of us - 1.
constexpr std::size_t histogram_bucket(std::int64_t us) {
  constexpr auto& bounds = DurationHistogram::kBoundsUs;
  static_assert(bounds[0] == 1 && bounds[1] == 4 && bounds[2] == 16 && bounds[3] == 64 && bounds[4] == 256);
  if (us <= 1) return 0;
  if (us <= 256)
    return (static_cast<std::size_t>(std::bit_width(static_cast<std::uint64_t>(us - 1))) + 1) / 2;
  std::size_t i = 5;
  while (i < bounds.size() && us > bounds[i]) ++i;
  return i;
}

inline void record_in(DurationHistogram& histogram, Duration d) {
  ++histogram.counts[histogram_bucket(d.count())];
  histogram.sum += d;
  ++histogram.total;
}

}  // namespace reactor::detail
