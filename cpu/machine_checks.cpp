#include "cpu/machine_checks.hpp"

#include "cpu/machine.hpp"

namespace vcpusim::cpu {
namespace {

constexpr const char* kWaitGraph = "wait_graph";  // no_deadlock and no_hang share it

sim::WaitGraph& shared_wait_graph(Machine& m, sim::CheckSet& run) {
  if (sim::WaitGraph* g = run.find<sim::WaitGraph>(kWaitGraph)) return *g;
  sim::WaitGraph& g =
      run.keep(kWaitGraph, std::make_unique<sim::WaitGraph>(m.kernel(), m.violations()));
  m.set_wait_graph(&g);
  return g;
}

}  // namespace

CheckSpec no_deadlock_check() {
  CheckSpec c;
  c.name = sim::WaitGraph::kDeadlock;
  c.doc = "no cycle of CPU waits none of which can resolve (wait-for graph)";
  c.attach = [](Machine& m, sim::CheckSet& run) { shared_wait_graph(m, run).check_deadlocks(); };
  return c;
}

CheckSpec no_hang_check() {
  CheckSpec c;
  c.name = sim::WaitGraph::kHang;
  c.doc = "no CPU spins in one wait for longer than limits.hang_after";
  c.limits = {{"hang_after", 10 * sim::kMillisecond, sim::kNanosecond, 100 * sim::kSecond,
               "no_hang: longest a CPU may spin in one wait"}};
  c.attach = [](Machine& m, sim::CheckSet& run) {
    shared_wait_graph(m, run).check_hangs(run.limit("hang_after"));
  };
  return c;
}

CheckSpec nmi_completes_check() {
  CheckSpec c;
  c.name = kNmiCompletes;
  c.doc = "every NMI handler returns within limits.nmi_max";
  c.limits = {{"nmi_max", sim::kMillisecond, sim::kNanosecond, 100 * sim::kSecond,
               "nmi_completes: longest an NMI handler may run (entry to return)"}};
  c.attach = [](Machine& m, sim::CheckSet& run) {
    m.set_nmi_check(&run.keep(kNmiCompletes, std::make_unique<sim::DeadlineCheck>(
                                                 m.kernel(), m.violations(), kNmiCompletes,
                                                 "NMI handler", run.limit("nmi_max"))));
  };
  return c;
}

CheckSpec no_lost_wakeup_check() {
  CheckSpec c;
  c.name = sim::LostWakeupCheck::kName;
  c.doc =
      "no vCPU stays halted in pv_wait for longer than limits.lost_wakeup_after once the "
      "condition that should wake it holds";
  c.limits = {{"lost_wakeup_after", 50 * sim::kMillisecond, sim::kMicrosecond, 100 * sim::kSecond,
               "no_lost_wakeup: longest a vCPU may stay halted in pv_wait after the condition that "
               "should wake it holds (must exceed a host slice: an unlocker preempted between its "
               "release and its kick delays the kick that long)"}};
  c.attach = [](Machine& m, sim::CheckSet& run) {
    m.set_lost_wakeup_check(
        &run.keep(sim::LostWakeupCheck::kName,
                  std::make_unique<sim::LostWakeupCheck>(m.kernel(), m.violations(),
                                                         run.limit("lost_wakeup_after"))));
  };
  return c;
}

}  // namespace vcpusim::cpu
