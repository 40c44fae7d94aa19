#include "guest/registries.hpp"

#include "cpu/machine.hpp"
#include "cpu/machine_checks.hpp"
#include "guest/guest_checks.hpp"
#include "guest/guest_objects.hpp"
#include "guest/guest_os.hpp"
#include "guest/ipi_storm.hpp"
#include "guest/lock_torture.hpp"
#include "guest/mmu_notifier.hpp"
#include "guest/rcu_monitor.hpp"
#include "guest/sched.hpp"
#include "guest/smp_call.hpp"
#include "guest/srcu.hpp"
#include "guest/timekeeping.hpp"
#include "guest/workload_kinds.hpp"

namespace vcpusim::guest {
namespace {

// The order is the default "checks" list a resolved scenario echoes: it stays as published.
void add_builtin_checks(cpu::CheckRegistry& checks) {
  checks.add(monotonic_time_check());
  checks.add(cpu::no_deadlock_check());
  checks.add(cpu::no_hang_check());
  checks.add(cpu::nmi_completes_check());
  checks.add(api_misuse_check());
  checks.add(rcu_reader_spans_gp_check());
  checks.add(rcu_stall_check());
  checks.add(use_after_free_check());
  checks.add(mutual_exclusion_check());
  checks.add(cpu::no_lost_wakeup_check());
  checks.add(hash_lookup_check());
}

// Each model's metric group (its header declares it next to what it counts).
void add_builtin_metrics(sim::MetricRegistry& metrics) {
  cpu::Machine::declare_all_metrics(metrics);
  TimekeepingMetrics().declare(metrics);
  ClockReaderMetrics().declare(metrics);
  MonotonicTimeMetrics().declare(metrics);
  GuestSchedMetrics().declare(metrics);
  SmpCallMetrics().declare(metrics);
  CallLedgerMetrics().declare(metrics);
  LockTortureMetrics().declare(metrics);
  RcuMetrics().declare(metrics);
  SrcuMetrics().declare(metrics);
  MmuNotifierMetrics().declare(metrics);
  GuestObjectMetrics().declare(metrics);
}

Registries make_builtin() {
  Registries r;
  add_builtin_checks(r.checks);
  add_builtin_workloads(r.workloads);
  add_builtin_lock_algorithms(r.locks);
  add_builtin_metrics(r.metrics);
  return r;
}

}  // namespace

const Registries& builtin_registries() {
  static const Registries builtin = make_builtin();
  return builtin;
}

}  // namespace vcpusim::guest
