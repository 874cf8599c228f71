// The one grammar for durations and sizes of every reactord binary and tool (reactord,
// reactorctl, reactor-client, reactor-bench, bench/): flags, environment variables and
// config values all go through these two parsers. Depends on nothing but the standard
// library. Any thread.
//
// Durations: one or more <number><unit> terms, units from largest to smallest, each at most
// once: "500ms", "1.5s", "2m", "1h30m", "250us". Units: h, m (minutes), s, ms, us.
//   "0" alone is zero. A bare number other than 0 ("5") is refused: seconds or milliseconds?
//   Negative values, unknown or upper-case units, spaces inside and anything finer than a
//   microsecond are refused. At most 87600h (10 years).
// Sizes: <number>[unit], powers of 1024: "65536", "100B", "64K" = "64k" = "64KiB" = 65536,
//   "1.5M" = "1.5MiB" = 1572864, G/GiB, T/TiB. A bare number is bytes. "KB", "MB", "kb" ...
//   are refused as ambiguous (1000 or 1024?). The result must be a whole number of bytes
//   ("1.3", "1.1K" are refused) and at most 2^63 - 1.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::units {

// A parsed value, or why the text is not one (a short phrase without the flag's name, e.g.
// "'5' has no unit: write 5s, 5ms, 5m, 5h or 5us").
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

Parsed<std::chrono::microseconds> parse_duration(std::string_view text);
Parsed<std::uint64_t> parse_size(std::string_view text);

// The shortest exact text that parses back to the same value: 90s -> "1m30s", 1500ms ->
// "1500ms", 0 -> "0s"; 65536 -> "64KiB", 1000 -> "1000".
std::string format_duration(std::chrono::microseconds d);
std::string format_size(std::uint64_t bytes);

// One usage-error line for a flag: "invalid --idle-timeout '5': '5' has no unit: ...".
std::string flag_error(std::string_view flag, std::string_view text, const std::string& error);

}  // namespace reactord::units
