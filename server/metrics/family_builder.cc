#include "server/metrics/family_builder.h"

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

}  // namespace reactord::metrics
