// Workloads that exercise RCU and SRCU, each the body of one guest task:
// rcu_reader (read sections of `section` with cond_resched between them), rcu_updater
// (synchronize_rcu every `interval`; with irqs "off", call_rcu and spin with irqs off until the
// callback ran: seed 002's CPU spinning on a grace period that needs its own quiescent state),
// srcu_reader (SRCU read sections in `domain` that may sleep) and srcu_updater
// (synchronize_srcu on `domain`).
#pragma once
#include "guest/guest_params.hpp"
#include "guest/rcu.hpp"
#include "guest/srcu.hpp"

namespace vcpusim::guest {

void rcu_reader(cpu::GuestCpu& cpu, GuestScheduler& sched, Rcu& rcu, const WorkloadParams& p);
void rcu_updater(cpu::GuestCpu& cpu, GuestScheduler& sched, Rcu& rcu, const WorkloadParams& p);
void srcu_reader(cpu::GuestCpu& cpu, GuestScheduler& sched, Srcu& srcu, const WorkloadParams& p);
void srcu_updater(cpu::GuestCpu& cpu, GuestScheduler& sched, Srcu& srcu, const WorkloadParams& p);

}  // namespace vcpusim::guest
