#include "sim/metrics.hpp"

#include <algorithm>

namespace vcpusim::sim {

std::map<std::string, std::int64_t> Samples::summary() const {
  if (values_.empty()) return {};
  std::vector<std::int64_t> v = values_;
  std::sort(v.begin(), v.end());
  auto rank = [&](int pct) {
    std::size_t r = (v.size() * static_cast<std::size_t>(pct) + 99) / 100;
    return v[std::max<std::size_t>(r, 1) - 1];
  };
  return {{"count", static_cast<std::int64_t>(v.size())},
          {"min", v.front()},
          {"p50", rank(50)},
          {"p99", rank(99)},
          {"max", v.back()}};
}

void Metrics::set_summary(const std::string& name, const Samples& samples) {
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
