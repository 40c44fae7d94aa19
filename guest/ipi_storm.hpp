// Workload ipi_storm: a caller vCPU issues cross-CPU calls to chosen targets at a rate, with irqs
// on or off while it calls and waits. The ledger counts every call and every run of its function,
// so a test can tell a call that ran twice or never from one still in flight.
#pragma once
#include <cstdint>
#include <vector>

#include "guest/guest_params.hpp"
#include "guest/smp_call.hpp"
#include "sim/metrics.hpp"

namespace vcpusim::guest {

class CallLedger {
 public:
  // A call expected to run `runs` times (once per target); returns its id.
  std::size_t issue(int runs);
  void ran(std::size_t id);
  void completed(sim::Tick latency) { latency_ns_.add(latency / sim::kNanosecond); }
  // The call was refused before it was made: nothing will run it.
  void refused(std::size_t id);
  void caller_finished() { ++finished_; }
  void collect_metrics(sim::Metrics& out) const;

 private:
  std::vector<int> expected_;
  std::vector<int> runs_;
  std::uint64_t total_runs_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t finished_ = 0;
  sim::Samples latency_ns_;
};

class IpiStorm {
 public:
  IpiStorm(SmpCall& calls, CallLedger& ledger, const WorkloadParams& p)
      : calls_(calls), ledger_(ledger), p_(p) {}
  // The caller's main loop; halts for good after `count` calls (0: never stops).
  void run(cpu::GuestCpu& cpu);

 private:
  SmpCall& calls_;
  CallLedger& ledger_;
  const WorkloadParams& p_;
};

}  // namespace vcpusim::guest
