#include "units.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace reactorctl {

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
