// Prefix reuse. A plan that only adds preemption points placed at accesses to the scenario's own
// run (no steered decision, the scenario's seed) is that run up to its first point. The fork
// server runs the scenario once for a batch of such plans and, as the run reaches a plan's first
// point, forks: the child (a copy-on-write image of the run at that instant) adds the plan's
// points and runs on to the end, which is the plan's own run from the start, byte for byte
// (ForkServer.OutcomesAreThoseOfFreshRuns). A plan whose points the run never reaches is the
// scenario's run.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "tools/explore/explore_strategy.hpp"
#include "tools/run/scenario.hpp"

namespace vcpusim::tools {

// May `plan` run forked from the scenario's own run? (`coverage`: cover's interleavings are
// counted from the start of each run, so its plans run on their own.)
bool forkable(const Scenario& s, const Plan& plan, bool coverage);

// What forking cost: per child, its CPU time beyond the part of the run it ran (the copy-on-write
// faults and the process), learned from the children as they end.
struct ForkCosts {
  double run_cpu = 0;   // CPU seconds of the scenario's own run
  double overhead = 0;  // mean CPU seconds a child costs beyond its share of the run
  std::uint64_t forked = 0;
  void add(double child_cpu, double fraction_run) {
    const double extra = child_cpu - (1 - fraction_run) * run_cpu;
    overhead = (overhead * static_cast<double>(forked) + extra) / static_cast<double>(forked + 1);
    ++forked;
  }
};

// The outcomes of forkable `plans` (all counting the same words), in their order, with at most
// `jobs` children running at once. `known`: the windows of the scenario's own run.
std::vector<Outcome> run_forked(const Scenario& s, const std::vector<Plan>& plans,
                                const std::set<std::string>& known, int jobs, ForkCosts& costs,
                                sim::StackPool* stacks = nullptr);

}  // namespace vcpusim::tools
