// What a failing run shows, in kernel terms, for `vcpusim shrink`: each host preemption of a vCPU
// (an injected one or a load task's window), when and how long, and which guest code it caught
// (the traced spans open on that vCPU: the timekeeping update from its clock read to publication,
// a seqcount write section, a lock hold; else the guest frame), then the failure and the facts its
// violation details give (the NTP mult change, the update's publish delay, the step).
#pragma once
#include <string>
#include <vector>

#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::tools {

// `result` from a run with RunOptions::keep_events.
std::vector<std::string> explain_failure(const Scenario& scenario, const RunResult& result);

}  // namespace vcpusim::tools
