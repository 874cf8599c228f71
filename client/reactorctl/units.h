// Human-readable durations and byte counts in reactorctl's tables ("1.23s", "1.5K": rounded,
// for reading). Parsing flags is not here: every binary uses the one grammar of units/units.h.
// Any thread.
#pragma once

#include <cstdint>
#include <string>

namespace reactorctl {

// 1234567us -> "1.23s", 1500us -> "1.5ms", 90s -> "1m30s".
std::string format_duration_us(std::int64_t us);
// 1536 -> "1.5K".
std::string format_bytes(std::uint64_t bytes);

}  // namespace reactorctl
