// What a scenario can name that code declares: the checks (cpu::CheckRegistry), the workload
// kinds (WorkloadRegistry), the lock algorithms (LockRegistry) and the metrics a run emits
// (sim::MetricRegistry). The scenario's
// validation, the schema, --help and the wiring of a run all read these. The built-in set is
// immutable; to add a check or a workload kind (a plugin, a test), copy it, add to the copy and
// hand the copy to tools::Scenario (a C plugin's locks: plugin/).
#pragma once
#include "cpu/check_registry.hpp"
#include "guest/locks/lock_registry.hpp"
#include "guest/workload_registry.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

struct Registries {
  cpu::CheckRegistry checks{"check"};
  WorkloadRegistry workloads{"workload kind"};
  LockRegistry locks{"lock kind"};
  sim::MetricRegistry metrics{"metric"};
};

// The built-in checks, workload kinds and metrics, in the order every list derived from them
// shows.
const Registries& builtin_registries();

}  // namespace vcpusim::guest
