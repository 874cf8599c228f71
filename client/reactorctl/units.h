// Human units for reactorctl: durations ("1s", "500ms", "2m", "250us", "1.5s") and byte
// counts ("64k", "1M"). Any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactorctl {

// Parses a duration into microseconds. A unit is required except for "0". Negative values are
// parsed (the server refuses them with INVALID_ARGUMENT, and that is what the user should see).
std::optional<std::int64_t> parse_duration_us(std::string_view text);
// Parses "123", "64k", "1M", "2G" (powers of 1024).
std::optional<std::uint64_t> parse_bytes(std::string_view text);

// 1234567us -> "1.23s", 1500us -> "1.5ms", 90s -> "1m30s".
std::string format_duration_us(std::int64_t us);
// 1536 -> "1.5K".
std::string format_bytes(std::uint64_t bytes);

}  // namespace reactorctl

namespace reactorctl {
// --timeout: a positive duration, as milliseconds.
inline std::optional<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  auto us = parse_duration_us(text);
  if (!us || *us <= 0) return std::nullopt;
  return std::chrono::milliseconds(std::max<std::int64_t>(1, *us / 1000));
}
}  // namespace reactorctl
