#include "server/metrics/family_builder.h"

#include <limits>

namespace reactord::metrics {
namespace {

prometheus::ClientMetric& add_sample(prometheus::MetricFamily& family, const LabelList& labels) {
  auto& sample = family.metric.emplace_back();
  sample.label.reserve(labels.size());
  for (const auto& [name, value] : labels) sample.label.push_back({name, value});
  return sample;
}

}  // namespace

prometheus::MetricFamily make_family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void add_counter(prometheus::MetricFamily& family, double value, const LabelList& labels) {
  add_sample(family, labels).counter.value = value;
}

void add_gauge(prometheus::MetricFamily& family, double value, const LabelList& labels) {
  add_sample(family, labels).gauge.value = value;
}

void add_histogram(prometheus::MetricFamily& family, prometheus::ClientMetric::Histogram histogram,
                   const LabelList& labels) {
  add_sample(family, labels).histogram = std::move(histogram);
}

void push_counter(Families& out, std::string name, std::string help, double value, const LabelList& labels) {
  add_counter(
      out.emplace_back(make_family(std::move(name), std::move(help), prometheus::MetricType::Counter)), value,
      labels);
}

void push_gauge(Families& out, std::string name, std::string help, double value, const LabelList& labels) {
  add_gauge(out.emplace_back(make_family(std::move(name), std::move(help), prometheus::MetricType::Gauge)),
            value, labels);
}

void push_histogram(Families& out, std::string name, std::string help,
                    prometheus::ClientMetric::Histogram histogram, const LabelList& labels) {
  add_histogram(
      out.emplace_back(make_family(std::move(name), std::move(help), prometheus::MetricType::Histogram)),
      std::move(histogram), labels);
}

void push_counters(Families& out, std::string name, std::string help, const std::string& label,
                   const LabelledValues& values) {
  auto& family =
      out.emplace_back(make_family(std::move(name), std::move(help), prometheus::MetricType::Counter));
  for (const auto& [label_value, value] : values) add_counter(family, value, {{label, label_value}});
}

prometheus::ClientMetric::Histogram cumulative_histogram(
    std::span<const std::uint64_t> counts, const std::function<double(std::size_t)>& upper_bound,
    double sum) {
  prometheus::ClientMetric::Histogram out;
  out.bucket.reserve(counts.size());
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i + 1 < counts.size(); ++i) {
    cumulative += counts[i];
    out.bucket.push_back({cumulative, upper_bound(i)});
  }
  if (!counts.empty()) cumulative += counts.back();
  out.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  out.sample_count = cumulative;
  out.sample_sum = sum;
  return out;
}

}  // namespace reactord::metrics
