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
#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {

// `result` from a run with RunOptions::keep_events.
std::vector<std::string> explain_failure(const Scenario& scenario, const RunResult& result);

// What held `vcpu`'s pCPU from t0 (its preemption) to t1 (its return), in the order the trace
// shows it, each with the time it held the pCPU: the cause chain, not only what ran first ("an
// injected host preemption (1ns), then host task load0 (4.065ms) on pCPU0": a 1 ns injection
// lets a queued load task take its slice). `pcpus`: the vCPU's allowed pCPUs (empty: any).
std::string preemption_holders(const TraceView& view, const std::string& vcpu, sim::Tick t0,
                               sim::Tick t1, const std::vector<std::int64_t>& pcpus);

}  // namespace vcpusim::tools
