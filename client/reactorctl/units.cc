#include "units.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace reactorctl {

std::optional<std::int64_t> parse_duration_us(std::string_view text) {
  if (text == "0") return 0;
  std::string s(text);
  const char* begin = s.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(value)) return std::nullopt;
  std::string_view unit(end);
  double scale = 0;
  if (unit == "us") scale = 1;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "s") scale = 1e6;
  else if (unit == "m") scale = 60e6;
  else if (unit == "h") scale = 3600e6;
  else return std::nullopt;
  double us = value * scale;
  if (std::fabs(us) > 9e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(us));
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  std::string s(text);
  if (s.empty() || s[0] == '-') return std::nullopt;
  char* end = nullptr;
  unsigned long long value = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return std::nullopt;
  std::string_view unit(end);
  std::uint64_t scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "k" || unit == "K" || unit == "KiB") scale = 1ull << 10;
  else if (unit == "M" || unit == "MiB") scale = 1ull << 20;
  else if (unit == "G" || unit == "GiB") scale = 1ull << 30;
  else return std::nullopt;
  if (value > UINT64_MAX / scale) return std::nullopt;
  return value * scale;
}

std::string format_duration_us(std::int64_t us) {
  char buf[64];
  const char* sign = us < 0 ? "-" : "";
  double a = std::fabs(static_cast<double>(us));
  if (a < 1e3) {
    std::snprintf(buf, sizeof buf, "%s%.0fus", sign, a);
  } else if (a < 1e6) {
    std::snprintf(buf, sizeof buf, "%s%.3gms", sign, a / 1e3);
  } else if (a < 60e6) {
    std::snprintf(buf, sizeof buf, "%s%.3gs", sign, a / 1e6);
  } else {
    auto total_s = static_cast<long long>(a / 1e6);
    if (total_s < 3600) {
      std::snprintf(buf, sizeof buf, "%s%lldm%llds", sign, total_s / 60, total_s % 60);
    } else {
      std::snprintf(buf, sizeof buf, "%s%lldh%lldm", sign, total_s / 3600, (total_s / 60) % 60);
    }
  }
  return buf;
}

std::string format_bytes(std::uint64_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.3gK", bytes / 1024.0);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.3gM", bytes / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.3gG", bytes / 1073741824.0);
  }
  return buf;
}

}  // namespace reactorctl
