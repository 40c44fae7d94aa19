// The guest kernel: builds the configured kernel models on a machine, the guest scheduler with
// an idle task per vCPU, the timer interrupt handler, and one task per workload and vCPU (a vCPU
// may run several). Workload kinds are created by name from a registry.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "cpu/machine.hpp"
#include "guest/guest_params.hpp"
#include "guest/ipi_storm.hpp"
#include "guest/rcu_system.hpp"
#include "guest/lock_torture.hpp"
#include "guest/sched.hpp"
#include "guest/smp_call.hpp"
#include "guest/timekeeping.hpp"
#include "sim/checks.hpp"
#include "sim/metrics.hpp"

namespace vcpusim::guest {

class GuestOs {
 public:
  // `report_misuse`: the api_misuse check is enabled.
  GuestOs(cpu::Machine& machine, const GuestParams& params, const TimekeepingCosts& tk_costs,
          sim::MonotonicTimeCheck* monotonic, bool report_misuse = false,
          sim::MutualExclusionCheck* mutual_exclusion = nullptr);
  // After the run: reader latencies, seqcount retries, timekeeping counters.
  void collect_metrics(sim::Metrics& out) const;
  Timekeeping& timekeeping() { return timekeeping_; }
  GuestScheduler& scheduler() { return sched_; }
  // Workload kinds this kernel can create (the registry's names).
  std::vector<std::string> workload_kinds() const;
  // The checks enabled for the run, by name (the guest reports the ones it owns).
  void set_checks(const std::vector<std::string>& enabled);
  // Null unless an RCU, SRCU or mmu-notifier workload runs.
  RcuSystem* rcu() { return rcu_.get(); }

 private:
  using WorkloadFactory = std::function<void(const WorkloadParams&, int vcpu)>;
  void register_workloads(const GuestParams& params, bool report_misuse,
                          sim::MutualExclusionCheck* mutual_exclusion);
  // Spawns the task of a workload that runs `body` forever on `vcpu`.
  void spawn(const WorkloadParams& p, int vcpu, std::function<void(cpu::GuestCpu&)> body);
  // The timer interrupt: the tick's timekeeping update where it is due, then expired timers.
  void timer_interrupt(cpu::GuestCpu& cpu);
  void read_loop(cpu::GuestCpu& cpu, const WorkloadParams& p, bool vdso);
  // nmi_time_reader: NMI sources on vCPU `v` and the handler that reads time.
  void install_nmi_reader(int v, const WorkloadParams& p);
  void arm_periodic_nmi(int v, sim::Tick when, sim::Tick period);
  void nmi_read(cpu::GuestCpu& cpu);

  cpu::Machine& machine_;
  GuestScheduler sched_;
  Timekeeping timekeeping_;
  sim::Tick next_tick_ = 0;
  std::map<std::string, WorkloadFactory> kinds_;
  sim::MonotonicTimeCheck* monotonic_;
  std::vector<int> clock_components_;  // per vCPU: its clock reads
  std::unique_ptr<SmpCall> calls_;  // only when an ipi_storm runs
  CallLedger ledger_;
  std::vector<std::unique_ptr<IpiStorm>> storms_;
  std::unique_ptr<RcuSystem> rcu_;  // only when an RCU workload runs
  std::unique_ptr<LockTorture> torture_;  // only when a lock_torture runs
  std::uint64_t nmi_reads_ = 0;
  // Keyed "vdso" / "ktime", and "vdso.vcpuN" per reader.
  std::map<std::string, sim::Samples> latency_ns_;
  std::map<std::string, std::uint64_t> retries_;
};

}  // namespace vcpusim::guest
