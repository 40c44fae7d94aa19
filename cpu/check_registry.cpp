#include "cpu/check_registry.hpp"

namespace vcpusim::cpu {

void attach_checks(const CheckRegistry& checks, Machine& machine, sim::CheckSet& run) {
  for (const CheckSpec& c : checks.entries())
    if (c.attach && run.enabled(c.name)) c.attach(machine, run);
}

CheckLimits::CheckLimits(const CheckRegistry& checks) {
  for (const CheckSpec& c : checks.entries())
    for (const CheckLimit& l : c.limits) {
      for (const auto& b : bounds_)
        if (std::string(b->name()) == l.name)
          throw sim::SimError("limit \"" + std::string(l.name) + "\" is declared twice (check " +
                              c.name + ")");
      bounds_.push_back(
          std::make_unique<sim::DurationParam>(*this, l.name, l.def, l.lo, l.hi, l.doc));
    }
}

std::map<std::string, sim::Tick> CheckLimits::values() const {
  std::map<std::string, sim::Tick> out;
  for (const auto& b : bounds_) out[b->name()] = b->value;
  return out;
}

}  // namespace vcpusim::cpu
