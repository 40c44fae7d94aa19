#include "sim/record/metrics.hpp"

#include <algorithm>

#include "sim/error.hpp"
#include "sim/record/metric_registry.hpp"

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

namespace {
// The bin of v: exact below 4; from 4 on, a quarter of v's power of two [2^e, 2^(e+1)).
Samples::Bin bin_of(std::int64_t v) {
  if (v < 4) return {v, v, 0};
  int e = 0;
  while (e < 62 && (std::int64_t{1} << (e + 1)) <= v) ++e;
  const std::int64_t base = std::int64_t{1} << e, width = base / 4;
  const std::int64_t lo = base + (v - base) / width * width;
  return {lo, lo + width - 1, 0};
}
}  // namespace

std::vector<Samples::Bin> Samples::histogram() const {
  std::vector<Bin> out;
  for (const auto& [value, n] : counts_) {
    const Bin b = bin_of(value);
    if (out.empty() || out.back()[0] != b[0]) out.push_back(b);
    out.back()[2] += static_cast<std::int64_t>(n);
  }
  return out;
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
  if (samples.count() > 0) histograms_[name] = samples.histogram();
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

nlohmann::json Metrics::histograms_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, bins] : histograms_) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& b : bins) list.push_back({b[0], b[1], b[2]});
    out[name] = std::move(list);
  }
  return out;
}

}  // namespace vcpusim::sim
