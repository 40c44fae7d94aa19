// A workload kind of a C plugin (struct vcpusim_workload_ops) as a guest::WorkloadKind: its typed
// parameters become keys of its guest.workloads[] entry, checked by the scenario loader like the
// built-in keys, and on each vCPU the entry lists a guest task calls the plugin's run() with
// their values. A task that returns with preemption disabled is a preempt_count violation.
#pragma once
#include <string>

#include "guest/workload_registry.hpp"
#include "plugin/loaded_plugin.hpp"
#include "plugin/plugin_metrics.hpp"

namespace vcpusim::plugin {

// What is wrong with a registration ("" when nothing): the message's "what; allowed: ...".
std::string workload_problem(const vcpusim_workload_ops& ops);
std::string metric_problem(const vcpusim_metric& metric);

guest::WorkloadKind c_workload_kind(const LoadedPlugin& plugin, const vcpusim_workload_ops& ops,
                                    const PluginMetrics& metrics);

}  // namespace vcpusim::plugin
