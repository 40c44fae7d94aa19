#include "sim/decision.hpp"

namespace vcpusim::sim {

std::int64_t DecisionSource::record(Tick now, int component, const std::string& what,
                                    std::int64_t value) {
  ++count_;
  if (keep_log_) log_.push_back(Decision{now, component, what, value});
  return value;
}

Rng& RandomDecisionSource::stream(int component) {
  auto it = streams_.find(component);
  if (it == streams_.end())
    it = streams_.emplace(component, Rng(seed_, components_.key(component))).first;
  return it->second;
}

Tick RandomDecisionSource::exponential(Tick now, int component, const std::string& what,
                                       Tick mean) {
  return record(now, component, what, stream(component).exponential(mean));
}

std::int64_t RandomDecisionSource::choose(Tick now, int component, const std::string& what,
                                          std::int64_t n) {
  return record(now, component, what, static_cast<std::int64_t>(stream(component).below(n)));
}

}  // namespace vcpusim::sim
