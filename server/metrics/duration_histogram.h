// The reactor's DurationHistogram (per-bucket counts, microsecond bounds, filled on the loop
// thread) as a Prometheus histogram (cumulative counts, bounds in seconds).
#pragma once

#include <prometheus/client_metric.h>

#include "reactor/inspection.h"

namespace reactord::metrics {

// Buckets become cumulative; bounds are converted to seconds; the reactor's last bucket is the
// +Inf bucket, whose count is the sample count. Any thread (pure function on a copy).
prometheus::ClientMetric::Histogram to_prometheus(const reactor::DurationHistogram& histogram);

}  // namespace reactord::metrics
