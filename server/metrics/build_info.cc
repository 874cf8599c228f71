#include "server/metrics/build_info.h"

#include <string>

#include "server/metrics/family_builder.h"

#ifndef REACTORD_VERSION
#error "REACTORD_VERSION must be defined by the build"
#endif
#ifndef REACTORD_BUILD_TYPE
#define REACTORD_BUILD_TYPE "unknown"
#endif

namespace reactord::metrics {
namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

const char* BuildInfoCollector::version() { return REACTORD_VERSION; }

std::vector<prometheus::MetricFamily> BuildInfoCollector::Collect() const {
  Families out;
  push_gauge(out, "reactord_build_info", "Always 1; the labels say which build of reactord is running.", 1,
             {{"version", REACTORD_VERSION}, {"build_type", REACTORD_BUILD_TYPE}, {"compiler", compiler()}});
  return out;
}

}  // namespace reactord::metrics
