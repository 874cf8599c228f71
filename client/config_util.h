// Small parsers shared by the clients (they do not link reactord_core). Any thread.
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::client {

// "10s", "500ms", "2m", "250us"; a bare number is seconds. nullopt on error.
inline std::optional<std::chrono::microseconds> parse_duration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double number = 0;
  try {
    std::size_t used = 0;
    number = std::stod(std::string(text.substr(0, i)), &used);
    if (used != i) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(i);
  double us = 0;
  if (unit.empty() || unit == "s") us = number * 1e6;
  else if (unit == "ms") us = number * 1e3;
  else if (unit == "us") us = number;
  else if (unit == "m") us = number * 60e6;
  else return std::nullopt;
  if (us < 0 || us > 1e15) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::int64_t>(us));
}

}  // namespace reactord::client
