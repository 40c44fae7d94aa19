// The guest kernel: builds the configured kernel models on a machine and puts a workload on
// every vCPU (idle when none is configured).
#pragma once
#include <map>
#include <memory>
#include <string>

#include "cpu/machine.hpp"
#include "guest/guest_params.hpp"
#include "guest/timekeeping.hpp"
#include "sim/checks.hpp"
#include "sim/metrics.hpp"

namespace vcpusim::guest {

class GuestOs {
 public:
  GuestOs(cpu::Machine& machine, const GuestParams& params, const TimekeepingCosts& tk_costs,
          sim::MonotonicTimeCheck* monotonic);
  // After the run: reader latencies, seqcount retries, timekeeping counters.
  void collect_metrics(sim::Metrics& out) const;
  Timekeeping& timekeeping() { return timekeeping_; }

 private:
  void read_loop(cpu::GuestCpu& cpu, const WorkloadParams& p, bool vdso);

  cpu::Machine& machine_;
  Timekeeping timekeeping_;
  sim::MonotonicTimeCheck* monotonic_;
  // Keyed "vdso" / "ktime", and "vdso.vcpuN" per reader.
  std::map<std::string, sim::Samples> latency_ns_;
  std::map<std::string, std::uint64_t> retries_;
};

}  // namespace vcpusim::guest
