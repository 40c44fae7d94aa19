// Run metrics: named values in a sorted map (stable output order) and sample summaries.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vcpusim::sim {

// Integer samples summarised as count/min/p50/p99/max (nearest-rank percentiles).
class Samples {
 public:
  void add(std::int64_t v) { values_.push_back(v); }
  void merge(const Samples& other) {
    values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  }
  std::size_t count() const { return values_.size(); }
  // Empty when no sample was taken.
  std::map<std::string, std::int64_t> summary() const;

 private:
  std::vector<std::int64_t> values_;
};

class Metrics {
 public:
  void set(const std::string& name, nlohmann::json value) { values_[name] = std::move(value); }
  // Adds name.min, name.p50, name.p99, name.max and name.count.
  void set_summary(const std::string& name, const Samples& samples);
  const nlohmann::json* find(const std::string& name) const;
  nlohmann::json to_json() const;
  const std::map<std::string, nlohmann::json>& values() const { return values_; }

 private:
  std::map<std::string, nlohmann::json> values_;
};

}  // namespace vcpusim::sim
