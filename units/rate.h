// Rates for rate-limit flags and commands: "RATE[,BURST]" in bytes per second, each a size of
// units.h ("256KiB", "1M,4M", "65536"), or "off". BURST defaults to RATE (one second's
// worth). Shared by reactord's --rate-limit-* flags and `reactorctl ratelimit`. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "units/units.h"

namespace reactord::units {

struct Rate {
  std::uint64_t bytes_per_second = 0;
  std::uint64_t burst = 0;  // bytes
  bool operator==(const Rate&) const = default;
};

// Limits that keep a 100 ms tick valid for libevent-style token buckets: at least 10 B/s
// (one byte per tick), at most 16 GiB/s, burst at least one tick's worth, at most 2 GiB - 1
// (EV_RATE_LIMIT_MAX).
inline constexpr std::uint64_t kMinRate = 10;
inline constexpr std::uint64_t kMaxRate = 16ull << 30;
inline constexpr std::uint64_t kMaxBurst = 0x7fffffff;

// Checks a rate and burst against the limits above: an error phrase, or nullopt.
std::optional<std::string> check_rate(std::uint64_t bytes_per_second, std::uint64_t burst);

// "RATE[,BURST]" or "off" (nullopt). Errors are phrases for flag_error.
Parsed<std::optional<Rate>> parse_rate(std::string_view text);
// The text parse_rate reads back: "off", "256KiB", "256KiB,1MiB".
std::string format_rate(const std::optional<Rate>& rate);

}  // namespace reactord::units
