#include "guest/mmu_notifier_torture.hpp"

#include <algorithm>

namespace vcpusim::guest {
namespace {
void pause(cpu::GuestCpu& cpu, GuestScheduler& sched, const WorkloadParams& p) {
  for (sim::Tick left = p.interval.value; left > 0; left -= p.chunk.value)
    cpu.compute(std::min(left, p.chunk.value));
  sched.cond_resched(cpu);
}
}  // namespace

void mmu_notifier_torture(cpu::GuestCpu& cpu, GuestScheduler& sched, MmuNotifierList& list,
                          const WorkloadParams& p) {
  const bool churn = p.role.value == NotifierRole::kChurn;
  for (std::int64_t i = 0; p.count.value == 0 || i < p.count.value; ++i) {
    if (churn) {
      const MmuNotifierList::Handle h = list.register_notifier(cpu);
      pause(cpu, sched, p);
      list.unregister_and_free(cpu, h);
    } else {
      list.invalidate(cpu);
    }
    pause(cpu, sched, p);
  }
}

}  // namespace vcpusim::guest
