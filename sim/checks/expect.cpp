#include "sim/checks/expect.hpp"

#include <sstream>

namespace vcpusim::sim {

Json Bound::to_json() const {
  Json out = Json::object();
  if (min) out["min"] = *min;
  if (max) out["max"] = *max;
  return out;
}

Bound Expect::load_bound(const Node& node) {
  node.reject_unknown({"min", "max"});
  Bound b;
  if (node.has("min")) b.min = node.at("min").as_real(-1e18, 1e18);
  if (node.has("max")) b.max = node.at("max").as_real(-1e18, 1e18);
  if (!b.min && !b.max) node.fail("{} sets no bound", "\"min\" and/or \"max\"");
  if (b.min && b.max && *b.min > *b.max) node.fail("min > max", "min <= max");
  return b;
}

void Expect::load(const Node& node, const std::vector<std::string>& checks,
                  const MetricRegistry& metrics) {
  node.reject_unknown({"violations", "metrics"});
  if (node.has("violations")) {
    const Node v = node.at("violations");
    v.reject_unknown(checks);
    for (auto it = v.json().begin(); it != v.json().end(); ++it)
      violations_[it.key()] = load_bound(v.at(it.key()));
  }
  if (node.has("metrics")) {
    const Node m = node.at("metrics");
    m.require_object();
    for (auto it = m.json().begin(); it != m.json().end(); ++it) {
      require_numeric_metric(m.at(it.key()), it.key(), metrics);
      metrics_[it.key()] = load_bound(m.at(it.key()));
    }
  }
}

Json Expect::to_json() const {
  Json out = Json::object();
  Json v = Json::object();
  for (const auto& [k, b] : violations_) v[k] = b.to_json();
  Json m = Json::object();
  for (const auto& [k, b] : metrics_) m[k] = b.to_json();
  out["violations"] = v;
  out["metrics"] = m;
  return out;
}

namespace {
std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
void check_bound(const std::string& what, double value, const Bound& b,
                 std::vector<std::string>& out) {
  if (b.min && value < *b.min)
    out.push_back(what + " is " + num(value) + ", expected at least " + num(*b.min));
  if (b.max && value > *b.max)
    out.push_back(what + " is " + num(value) + ", expected at most " + num(*b.max));
}
}  // namespace

std::vector<std::string> Expect::evaluate(const Metrics& metrics,
                                          const Violations& violations) const {
  std::vector<std::string> unmet;
  for (const auto& [check, b] : violations_)
    check_bound(check + " violations", static_cast<double>(violations.count(check)), b, unmet);
  for (const auto& [name, b] : metrics_) {
    const Json* v = metrics.find(name);
    if (!v || !v->is_number()) {
      unmet.push_back("metric " + name + " was not produced by this run");
      continue;
    }
    check_bound("metric " + name, v->get<double>(), b, unmet);
  }
  return unmet;
}

}  // namespace vcpusim::sim
