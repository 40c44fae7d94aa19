// Run metrics: named values in a sorted map (stable output order) and sample summaries. A value
// is set only through its declaration (sim/record/metric_registry.hpp), under a name it declares.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vcpusim::sim {

class Metric;

// Integer samples summarised as count/min/p50/p99/max (nearest-rank percentiles). Kept as an
// exact histogram (value -> count): the same percentiles as the sorted samples, in memory that
// grows with the number of distinct values, not with the length of the run.
class Samples {
 public:
  void add(std::int64_t v) {
    ++counts_[v];
    ++count_;
  }
  std::size_t count() const { return count_; }
  std::size_t distinct() const { return counts_.size(); }
  void merge(const Samples& other) {
    for (const auto& [v, n] : other.counts_) counts_[v] += n;
    count_ += other.count_;
  }
  // Empty when no sample was taken.
  std::map<std::string, std::int64_t> summary() const;
  // The samples in log-spaced bins, four to each power of two (values below 4 and negative
  // values each a bin of their own): {lo, hi, count} with lo..hi inclusive, the non-empty bins
  // in increasing order. Integer arithmetic only, so the same samples give the same bins.
  using Bin = std::array<std::int64_t, 3>;
  std::vector<Bin> histogram() const;

 private:
  std::map<std::int64_t, std::uint64_t> counts_;
  std::size_t count_ = 0;
};

class Metrics {
 public:
  // The value of `metric` under the name its placeholders filled with `args` make; SimError (an
  // internal error) when they do not fit its pattern or its shape is a summary.
  void set(const Metric& metric, nlohmann::json value) { set(metric, {}, std::move(value)); }
  void set(const Metric& metric, const std::vector<std::string>& args, nlohmann::json value);
  // A summary metric's NAME.count, .min, .p50, .p99 and .max; nothing when `samples` is empty.
  void set_summary(const Metric& metric, const Samples& samples) {
    set_summary(metric, {}, samples);
  }
  void set_summary(const Metric& metric, const std::vector<std::string>& args,
                   const Samples& samples);
  const nlohmann::json* find(const std::string& name) const;
  nlohmann::json to_json() const;
  // Each summary metric's Samples::histogram, by name: {"NAME": [[lo, hi, count], ...]}.
  nlohmann::json histograms_json() const;
  const std::map<std::string, nlohmann::json>& values() const { return values_; }

 private:
  std::map<std::string, nlohmann::json> values_;
  std::map<std::string, std::vector<Samples::Bin>> histograms_;
};

}  // namespace vcpusim::sim
