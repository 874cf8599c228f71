// reactord_build_info{version,build_type,compiler} 1 — the usual way to publish what is running.
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace reactord::metrics {

class BuildInfoCollector : public prometheus::Collectable {
 public:
  // The version string baked in at build time (the CMake project version).
  static const char* version();
  // Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace reactord::metrics
