// The workload kinds a scenario can name in guest.workloads[].kind, each declared once as a
// WorkloadKind: its name and doc (the schema's description of "kind", --help, the known-name list
// of a validation message), the keys it takes, its own checks of them, and how it starts on a
// vCPU. workload_kinds.hpp declares the built-in ones; guest/registries.hpp lists them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/config/registry.hpp"

namespace vcpusim::guest {

class GuestOs;
struct WorkloadParams;

// A parameter a kind declares for itself (a C plugin's workload, plugin/): a key of its
// guest.workloads[] entry beside the shared WorkloadParams members, with its own type and range.
struct KindParam {
  enum class Type { kInt, kDuration, kBool };
  std::string name;
  Type type = Type::kInt;
  std::string unit;
  std::int64_t min = 0, max = 0;  // inclusive; durations in ns
  std::int64_t def = 0;
  std::string doc;
};

struct WorkloadKind {
  std::string name;
  std::string doc;
  // The keys it takes besides "kind" and "vcpus": WorkloadParams members (and "at"). They are
  // what validation accepts and what the resolved scenario echoes.
  std::vector<std::string> keys;
  // Of `keys`, those echoed only when set off their default (keys added after resolved scenarios
  // were published, which stay as they were).
  std::vector<std::string> echoed_when_set;
  // Keys of its own, after `keys`: loaded into WorkloadParams::own in this order.
  std::vector<KindParam> params;
  // Checks of one loaded workload (`node`) beyond each key's own range; may be empty.
  std::function<void(const WorkloadParams&, const sim::Node& node)> validate;
  // Checks of the workload against a VM of `vcpus` vCPUs; may be empty.
  std::function<void(const WorkloadParams&, const sim::Node& node, std::int64_t vcpus)> fits_vm;
  // Starts the workload on `vcpu`: a task (GuestOs::spawn), or an interrupt handler.
  std::function<void(GuestOs&, const WorkloadParams&, int vcpu)> spawn;
};

using WorkloadRegistry = sim::Registry<WorkloadKind>;

}  // namespace vcpusim::guest
