// The built-in workload kinds: idle, busy, the clock readers, ipi_storm, nmi_time_reader, the RCU,
// SRCU and mmu-notifier workloads and lock_torture, in the order the schema and --help list them.
#pragma once
#include "guest/workload_registry.hpp"

namespace vcpusim::guest {

void add_builtin_workloads(WorkloadRegistry& kinds);

}  // namespace vcpusim::guest
