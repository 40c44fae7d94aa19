#include "sim/core/decision.hpp"

namespace vcpusim::sim {

std::string DecisionKey::str() const {
  return component + "/" + what + "#" + std::to_string(index);
}

std::int64_t DecisionSource::record(Tick now, int component, const std::string& what,
                                    std::int64_t value, std::uint64_t index) {
  ++count_;
  if (keep_log_) log_.push_back(Decision{now, component, what, value, index});
  return value;
}

Rng& RandomDecisionSource::stream(int component) {
  auto it = streams_.find(component);
  if (it == streams_.end())
    it = streams_.emplace(component, Rng(seed_, components_.key(component))).first;
  return it->second;
}

std::int64_t RandomDecisionSource::steer(Tick now, int component, const std::string& what,
                                         DecisionKind kind, std::int64_t lo, std::int64_t hi,
                                         std::int64_t value, std::int64_t mean) {
  std::uint64_t index = 0;
  if (steer_) {
    index = occurrences_[{component, what}]++;
    const DecisionKey key{components_.at(component).name, what, index};
    value = steer_->decide(DecisionPoint{now, key, kind, lo, hi, value, mean});
    // A nominal choice left at its default is not a decision of the run: counted and logged
    // only when a steer took another alternative, so a steer that changes nothing changes
    // nothing in the result either.
    if (kind == DecisionKind::kNominal && value == 0) return 0;
  }
  return record(now, component, what, value, index);
}

Tick RandomDecisionSource::exponential(Tick now, int component, const std::string& what,
                                       Tick mean) {
  const Tick v = stream(component).exponential(mean);
  return steer(now, component, what, DecisionKind::kExponential, 0, kForever, v, mean);
}

std::int64_t RandomDecisionSource::choose(Tick now, int component, const std::string& what,
                                          std::int64_t n) {
  const auto v = static_cast<std::int64_t>(stream(component).below(n));
  return steer(now, component, what, DecisionKind::kUniform, 0, n - 1, v);
}

std::int64_t RandomDecisionSource::nominal(Tick now, int component, const std::string& what,
                                           std::int64_t n) {
  // The default run neither draws nor counts these: a run without a steer is today's run.
  if (!steer_ || n <= 1) return 0;
  return steer(now, component, what, DecisionKind::kNominal, 0, n - 1, 0);
}

}  // namespace vcpusim::sim
