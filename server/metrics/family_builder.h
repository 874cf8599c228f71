// Small helpers to build prometheus::MetricFamily values by hand. Our collectors build their
// families at scrape time from numbers gathered elsewhere (loop counters, /proc), so they do
// not go through prometheus-cpp's Registry and its per-update mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace reactord::metrics {

using LabelList = std::vector<std::pair<std::string, std::string>>;
using Families = std::vector<prometheus::MetricFamily>;

// A family with no samples yet. Any thread.
prometheus::MetricFamily make_family(std::string name, std::string help, prometheus::MetricType type);

// Append one sample to `family`; the value kind must match the family's type. Any thread.
void add_counter(prometheus::MetricFamily& family, double value, const LabelList& labels = {});
void add_gauge(prometheus::MetricFamily& family, double value, const LabelList& labels = {});
void add_histogram(prometheus::MetricFamily& family, prometheus::ClientMetric::Histogram histogram,
                   const LabelList& labels = {});

// Append to `out` a family of one sample: make_family, add_* and push_back in one call, for the
// many families that carry a single value. Any thread.
void push_counter(Families& out, std::string name, std::string help, double value,
                  const LabelList& labels = {});
void push_gauge(Families& out, std::string name, std::string help, double value,
                const LabelList& labels = {});
void push_histogram(Families& out, std::string name, std::string help,
                    prometheus::ClientMetric::Histogram histogram, const LabelList& labels = {});

// Append to `out` a counter family with one sample per value of one label, in the order given
// (e.g. label "reason": {"slow", 2}, {"total", 0}). Any thread.
using LabelledValues = std::vector<std::pair<std::string, double>>;
void push_counters(Families& out, std::string name, std::string help, const std::string& label,
                   const LabelledValues& values);

// Per-bucket counts (counts.size() - 1 finite buckets, then +Inf) as a Prometheus histogram:
// counts made cumulative, bucket i's upper bound upper_bound(i) (in the unit the family says),
// the sample count the +Inf bucket's (Prometheus requires them equal). Any thread.
prometheus::ClientMetric::Histogram cumulative_histogram(
    std::span<const std::uint64_t> counts, const std::function<double(std::size_t)>& upper_bound, double sum);

}  // namespace reactord::metrics
