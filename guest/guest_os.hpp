// The guest kernel: builds the configured kernel models on a machine, the guest scheduler with
// an idle task per vCPU, the timer interrupt handler, and one task per workload and vCPU (a vCPU
// may run several). Each workload starts as its kind's declaration says (GuestParams::kinds());
// the models read the checks they feed or report from the run's sim::CheckSet.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "cpu/machine.hpp"
#include "guest/guest_params.hpp"
#include "guest/ipi_storm.hpp"
#include "guest/lock_torture.hpp"
#include "guest/rcu_system.hpp"
#include "guest/sched.hpp"
#include "guest/smp_call.hpp"
#include "guest/timekeeping.hpp"
#include "sim/checks/check_set.hpp"
#include "sim/checks/checks.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// The clock a reader workload reads.
enum class ReadClock { kVdso, kKtime };

// What the clock readers measure: vdso_reader / ktime_reader tasks, and NMI handlers that read
// time (nmi_time_reader). Declared when such a workload is spawned.
struct ClockReaderMetrics : sim::MetricGroup {
  ClockReaderMetrics() : MetricGroup("clock readers") {}
  sim::Metric latency_ns{*this, "reader_latency_ns.{vdso,ktime,nmi}", "ns",
                         "one clock read, call to return (vdso_clock_gettime, ktime_get, or the "
                         "NMI handler's read), over all readers",
                         sim::MetricShape::kSummary};
  sim::Metric reader_latency_ns{*this, "reader_latency_ns.{vdso,ktime}.vcpu<N>", "ns",
                                "one clock read by the reader on that vCPU",
                                sim::MetricShape::kSummary};
  sim::Metric retries{*this, "seqcount_retries.{vdso,ktime,nmi}", "count",
                      "read-side seqcount retries of that clock's readers"};
  sim::Metric nmi_reads{*this, "nmi_time.reads", "count",
                        "time reads NMI handlers completed (only with an NMI time reader)"};
  sim::Metric nmi_shadow_reads{*this, "nmi_time.shadow_reads", "count",
                               "of those, reads served from the owner's shadow copy"};
};

class GuestOs {
 public:
  // `checks`: the run's checks, attached before (cpu::attach_checks); it outlives the guest.
  GuestOs(cpu::Machine& machine, const GuestParams& params, const TimekeepingCosts& tk_costs,
          const sim::CheckSet& checks);
  // After the run: reader latencies, seqcount retries, timekeeping counters.
  void collect_metrics(sim::Metrics& out) const;
  Timekeeping& timekeeping() { return timekeeping_; }
  GuestScheduler& scheduler() { return sched_; }
  cpu::Machine& machine() { return machine_; }
  const sim::CheckSet& checks() const { return checks_; }
  // Null unless an RCU, SRCU or mmu-notifier workload runs.
  RcuSystem* rcu() { return rcu_.get(); }

  // What a workload kind's spawn uses (guest/workload_kinds.cpp). Spawns the task
  // "<kind>.vcpuN" of workload `p`, which runs `body` on `vcpu`.
  void spawn(const WorkloadParams& p, int vcpu, std::function<void(cpu::GuestCpu&)> body);
  // The same for a task whose own code (cond_resched aside) touches only `footprint` (lookahead,
  // cpu/vm/footprint.hpp). Declared once every workload is spawned, and only where the task is
  // alone on its vCPU and cond_resched runs no hooks: elsewhere schedule() may switch to a task
  // that declared nothing, or a hook may touch anything.
  void spawn(const WorkloadParams& p, int vcpu, std::function<void(cpu::GuestCpu&)> body,
             cpu::Footprint footprint);
  // A task on `vcpu` that reads `clock` forever, timing each read (the readers' latencies, the
  // monotonic_time check).
  void spawn_reader(const WorkloadParams& p, int vcpu, ReadClock clock);
  // NMI sources on vCPU `v` and the handler that reads time.
  void install_nmi_reader(int v, const WorkloadParams& p);
  // A new storm of cross-CPU calls for workload `p`, through the guest's smp_call (built at the
  // first storm).
  IpiStorm& add_ipi_storm(const WorkloadParams& p);
  // The locks of guest.locks and their torture state, built on first use.
  LockTorture& lock_torture();
  // The RCU side, built on first use.
  RcuSystem& rcu_system();

 private:
  // The timer interrupt: the tick's timekeeping update where it is due, then expired timers.
  void timer_interrupt(cpu::GuestCpu& cpu);
  void arm_periodic_nmi(int v, sim::Tick when, sim::Tick period);
  void nmi_read(cpu::GuestCpu& cpu);
  void read_loop(cpu::GuestCpu& cpu, const WorkloadParams& p, ReadClock clock);
  void declare_footprints();

  cpu::Machine& machine_;
  const GuestParams& params_;
  const sim::CheckSet& checks_;
  GuestScheduler sched_;
  Timekeeping timekeeping_;
  sim::Tick next_tick_ = 0;
  sim::MonotonicTimeCheck* monotonic_;  // null unless monotonic_time is on
  std::vector<int> clock_components_;  // per vCPU: its clock reads
  struct Declaration {
    int vcpu;
    int context;
    cpu::Footprint footprint;
  };
  std::deque<Declaration> footprints_;  // a deque: the vCPUs keep pointers to them
  std::unique_ptr<SmpCall> calls_;  // only when an ipi_storm runs
  CallLedger ledger_;
  std::vector<std::unique_ptr<IpiStorm>> storms_;
  std::unique_ptr<RcuSystem> rcu_;  // only when an RCU workload runs
  std::unique_ptr<LockTorture> torture_;  // only when a lock_torture runs
  std::uint64_t nmi_reads_ = 0;
  ClockReaderMetrics readers_;
  // Keyed by clock ("vdso", "ktime", "nmi"), and by clock and vCPU per reader.
  std::map<std::string, sim::Samples> latency_ns_;
  std::map<std::pair<std::string, int>, sim::Samples> reader_latency_ns_;
  std::map<std::string, std::uint64_t> retries_;
};

}  // namespace vcpusim::guest
