// The checks a scenario can enable, each declared once as a CheckSpec: its name and doc (the
// schema, --help, the known-name list of a validation message), the bounds it reads from the
// scenario's "limits" section, and how it attaches to a run. The machine's checks are declared in
// machine_checks.hpp, the guest's in guest/guest_checks.hpp; guest/registries.hpp lists them all.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/checks/check_set.hpp"
#include "sim/config/config.hpp"
#include "sim/config/registry.hpp"

namespace vcpusim::cpu {

class Machine;

// A bound of the "limits" section. The strings are the registry's: they outlive every scenario.
struct CheckLimit {
  const char* name;
  sim::Tick def;
  sim::Tick lo;
  sim::Tick hi;
  const char* doc;
};

struct CheckSpec {
  std::string name;
  std::string doc;
  std::vector<CheckLimit> limits;
  // Creates and connects the check's checker when the check is enabled, after the machine exists
  // and before the guest is built. Empty for a check that the model reporting it turns on itself
  // (CheckSet::enabled), or that is always reported.
  std::function<void(Machine&, sim::CheckSet&)> attach;
};

using CheckRegistry = sim::Registry<CheckSpec>;

// Attaches the checks `run` enables, in declaration order whatever the scenario's order (so
// the checkers register their components in one order).
void attach_checks(const CheckRegistry& checks, Machine& machine, sim::CheckSet& run);

// Scenario section "limits": one duration per bound the registered checks declare.
class CheckLimits : public sim::ParamSet {
 public:
  // SimError when two checks declare the same bound.
  explicit CheckLimits(const CheckRegistry& checks);
  // Every bound by name, for sim::CheckSet.
  std::map<std::string, sim::Tick> values() const;

 private:
  std::vector<std::unique_ptr<sim::DurationParam>> bounds_;
};

}  // namespace vcpusim::cpu
