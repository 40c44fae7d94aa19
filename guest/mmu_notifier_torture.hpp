// Workload mmu_notifier_torture: with role "invalidate" a task runs invalidate walks (every
// `interval`); with role "churn" it registers a notifier, keeps it `interval`, unregisters and
// frees it, and starts over. Methods sleep (guest.mmu_notifier.method_sleep).
#pragma once
#include "guest/guest_params.hpp"
#include "guest/mmu_notifier.hpp"

namespace vcpusim::guest {

void mmu_notifier_torture(cpu::GuestCpu& cpu, GuestScheduler& sched, MmuNotifierList& list,
                          const WorkloadParams& p);

}  // namespace vcpusim::guest
