// The guest kernel: builds the configured kernel models on a machine and puts a workload on
// every vCPU (idle when none is configured).
#pragma once
#include <map>
#include <memory>
#include <string>

#include "cpu/machine.hpp"
#include "guest/guest_params.hpp"
#include "guest/ipi_storm.hpp"
#include "guest/smp_call.hpp"
#include "guest/timekeeping.hpp"
#include "sim/checks.hpp"
#include "sim/metrics.hpp"

namespace vcpusim::guest {

class GuestOs {
 public:
  // `report_misuse`: the api_misuse check is enabled.
  GuestOs(cpu::Machine& machine, const GuestParams& params, const TimekeepingCosts& tk_costs,
          sim::MonotonicTimeCheck* monotonic, bool report_misuse = false);
  // After the run: reader latencies, seqcount retries, timekeeping counters.
  void collect_metrics(sim::Metrics& out) const;
  Timekeeping& timekeeping() { return timekeeping_; }

 private:
  void read_loop(cpu::GuestCpu& cpu, const WorkloadParams& p, bool vdso);
  // nmi_time_reader: NMI sources on vCPU `v` and the handler that reads time.
  void install_nmi_reader(int v, const WorkloadParams& p);
  void arm_periodic_nmi(int v, sim::Tick when, sim::Tick period);
  void nmi_read(cpu::GuestCpu& cpu);

  cpu::Machine& machine_;
  Timekeeping timekeeping_;
  sim::MonotonicTimeCheck* monotonic_;
  std::vector<int> clock_components_;  // per vCPU: its clock reads
  std::unique_ptr<SmpCall> calls_;  // only when an ipi_storm runs
  CallLedger ledger_;
  std::vector<std::unique_ptr<IpiStorm>> storms_;
  std::uint64_t nmi_reads_ = 0;
  // Keyed "vdso" / "ktime", and "vdso.vcpuN" per reader.
  std::map<std::string, sim::Samples> latency_ns_;
  std::map<std::string, std::uint64_t> retries_;
};

}  // namespace vcpusim::guest
