// One MetricsEndpoint per test process, created on first use (tests share it instead of each
// starting their own). Destroyed after the last test.
#pragma once

#include "server/metrics/metrics_endpoint.h"

namespace reactord::test_support {

// Bound to 127.0.0.1:0. Collectors added by one test stay registered for the next ones in the
// same process; tests look only at the families they own.
metrics::MetricsEndpoint& shared_endpoint();

}  // namespace reactord::test_support
