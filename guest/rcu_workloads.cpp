#include "guest/rcu_workloads.hpp"

#include <algorithm>

namespace vcpusim::guest {
namespace {
// Computation in `chunk` steps (interrupts are taken between them), then cond_resched.
void think(cpu::GuestCpu& cpu, GuestScheduler& sched, const WorkloadParams& p) {
  for (sim::Tick left = p.interval.value; left > 0; left -= p.chunk.value)
    cpu.compute(std::min(left, p.chunk.value));
  sched.cond_resched(cpu);
}
bool more(const WorkloadParams& p, std::int64_t i) {
  return p.count.value == 0 || i < p.count.value;
}
}  // namespace

void rcu_reader(cpu::GuestCpu& cpu, GuestScheduler& sched, Rcu& rcu, const WorkloadParams& p) {
  for (std::int64_t i = 0; more(p, i); ++i) {
    rcu.read_lock(cpu);
    for (sim::Tick left = p.section.value; left > 0; left -= p.chunk.value)
      cpu.compute(std::min(left, p.chunk.value));
    rcu.read_unlock(cpu);
    think(cpu, sched, p);
  }
}

void rcu_updater(cpu::GuestCpu& cpu, GuestScheduler& sched, Rcu& rcu, const WorkloadParams& p) {
  cpu::Word& ran =
      cpu.machine().memory().word("rcu_updater.vcpu" + std::to_string(cpu.id()) + ".callback_ran");
  for (std::int64_t i = 0; more(p, i); ++i) {
    if (p.irqs.value == IrqState::kOn) {
      rcu.synchronize(cpu);
    } else {
      // The mistake seed 002 warns about: this CPU's own quiescent state can never come.
      const bool flags = cpu.local_irq_save();
      const sim::Tick start = cpu.now();
      rcu.call(cpu, [&ran](cpu::GuestCpu& c) { c.store(ran, 1); });
      cpu.spin_until([&] { return cpu.load(ran) != 0; },
                     sim::WaitOn{"an RCU callback (the grace period needs a quiescent state from "
                                 "vCPU" +
                                     std::to_string(cpu.id()) + " itself, spinning with irqs off)",
                                 cpu.id(), sim::Needs::kProgress, false});
      cpu.store(ran, 0);
      cpu.local_irq_restore(flags);
      rcu.monitor().sync_latency(cpu.now() - start);
    }
    think(cpu, sched, p);
  }
}

void srcu_reader(cpu::GuestCpu& cpu, GuestScheduler& sched, Srcu& srcu, const WorkloadParams& p) {
  for (std::int64_t i = 0; more(p, i); ++i) {
    const int idx = srcu.read_lock(cpu);
    if (p.section.value > 0) cpu.compute(p.section.value);
    if (p.sleep.value > 0) sched.sleep_for(cpu, p.sleep.value);
    srcu.read_unlock(cpu, idx);
    think(cpu, sched, p);
  }
}

void srcu_updater(cpu::GuestCpu& cpu, GuestScheduler& sched, Srcu& srcu, const WorkloadParams& p) {
  for (std::int64_t i = 0; more(p, i); ++i) {
    srcu.synchronize(cpu);
    think(cpu, sched, p);
  }
}

}  // namespace vcpusim::guest
