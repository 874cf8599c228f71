// Small helpers to build prometheus::MetricFamily values by hand. Our collectors build their
// families at scrape time from numbers gathered elsewhere (loop counters, /proc), so they do
// not go through prometheus-cpp's Registry and its per-update mutex.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace reactord::metrics {

using LabelList = std::vector<std::pair<std::string, std::string>>;

// A family with no samples yet. Any thread.
prometheus::MetricFamily make_family(std::string name, std::string help, prometheus::MetricType type);

// Append one sample to `family`; the value kind must match the family's type. Any thread.
void add_counter(prometheus::MetricFamily& family, double value, const LabelList& labels = {});
void add_gauge(prometheus::MetricFamily& family, double value, const LabelList& labels = {});
void add_histogram(prometheus::MetricFamily& family, prometheus::ClientMetric::Histogram histogram,
                   const LabelList& labels = {});

}  // namespace reactord::metrics
