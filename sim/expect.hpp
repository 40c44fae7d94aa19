// The scenario's "expect" block: violation counts and metric bounds the run must meet.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/checks.hpp"
#include "sim/config.hpp"
#include "sim/metrics.hpp"

namespace vcpusim::sim {

struct Bound {
  std::optional<double> min;
  std::optional<double> max;
  Json to_json() const;
};

class Expect {
 public:
  // `checks`: names a violation bound may refer to.
  void load(const Node& node, const std::vector<std::string>& checks);
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
