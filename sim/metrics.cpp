#include "sim/metrics.hpp"

#include <algorithm>

#include "sim/error.hpp"
#include "sim/metric_registry.hpp"

namespace vcpusim::sim {

std::map<std::string, std::int64_t> Samples::summary() const {
  if (counts_.empty()) return {};
  // The nearest-rank value: the smallest value whose cumulative count reaches the rank.
  auto rank = [&](int pct) {
    const std::size_t r =
        std::max<std::size_t>((count_ * static_cast<std::size_t>(pct) + 99) / 100, 1);
    std::size_t seen = 0;
    for (const auto& [value, n] : counts_) {
      seen += n;
      if (seen >= r) return value;
    }
    return counts_.rbegin()->first;
  };
  return {{"count", static_cast<std::int64_t>(count_)},
          {"min", counts_.begin()->first},
          {"p50", rank(50)},
          {"p99", rank(99)},
          {"max", counts_.rbegin()->first}};
}

void Metrics::set(const Metric& metric, const std::vector<std::string>& args,
                  nlohmann::json value) {
  if (metric.spec().shape == MetricShape::kSummary)
    throw SimError("metric " + metric.spec().name + " is a summary: set_summary sets it");
  values_[metric.name(args)] = std::move(value);
}

void Metrics::set_summary(const Metric& metric, const std::vector<std::string>& args,
                          const Samples& samples) {
  if (metric.spec().shape != MetricShape::kSummary)
    throw SimError("metric " + metric.spec().name + " is not a summary");
  const std::string name = metric.name(args);
  for (const auto& [k, v] : samples.summary()) values_[name + "." + k] = v;
}

const nlohmann::json* Metrics::find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

nlohmann::json Metrics::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : values_) out[k] = v;
  return out;
}

}  // namespace vcpusim::sim
