// The scenario's "expect" block: violation counts and metric bounds the run must meet.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/checks/checks.hpp"
#include "sim/config/config.hpp"
#include "sim/record/metric_registry.hpp"
#include "sim/record/metrics.hpp"

namespace vcpusim::sim {

struct Bound {
  std::optional<double> min;
  std::optional<double> max;
  Json to_json() const;
};

class Expect {
 public:
  // `checks`: names a violation bound may refer to; `metrics`: the metrics a metric bound may
  // name (a name none declares fails here, before any run, with the nearest declared one).
  void load(const Node& node, const std::vector<std::string>& checks,
            const MetricRegistry& metrics);
  Json to_json() const;
  bool empty() const { return violations_.empty() && metrics_.empty(); }
  // Every unmet expectation as a sentence; empty when all are met.
  std::vector<std::string> evaluate(const Metrics& metrics, const Violations& violations) const;

 private:
  static Bound load_bound(const Node& node);
  std::map<std::string, Bound> violations_;
  std::map<std::string, Bound> metrics_;
};

}  // namespace vcpusim::sim
