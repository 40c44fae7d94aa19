#include "sim/checks/check_set.hpp"

#include <algorithm>

namespace vcpusim::sim {

bool CheckSet::enabled(const std::string& check) const {
  return std::find(enabled_.begin(), enabled_.end(), check) != enabled_.end();
}

Tick CheckSet::limit(const std::string& name) const {
  const auto it = limits_.find(name);
  if (it == limits_.end()) throw SimError("no check declares the limit \"" + name + "\"");
  return it->second;
}

void CheckSet::collect_metrics(Metrics& out) const {
  for (const auto& collect : metrics_) collect(out);
}

const CheckSet::Kept* CheckSet::kept(const std::string& key) const {
  for (const Kept& k : kept_)
    if (k.key == key) return &k;
  return nullptr;
}

}  // namespace vcpusim::sim
