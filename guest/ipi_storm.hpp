// Workload ipi_storm: a caller vCPU issues cross-CPU calls to chosen targets at a rate, with irqs
// on or off while it calls and waits. The ledger counts every call and every run of its function,
// so a test can tell a call that ran twice or never from one still in flight.
#pragma once
#include <cstdint>
#include <vector>

#include "guest/guest_params.hpp"
#include "guest/smp_call.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// The ledger's account of the cross-CPU calls ipi_storm workloads made.
struct CallLedgerMetrics : sim::MetricGroup {
  CallLedgerMetrics() : MetricGroup("ipi_storm") {}
  sim::Metric calls{*this, "smp_call.calls", "count", "calls made (refused ones excluded)"};
  sim::Metric refused{*this, "smp_call.refused", "count",
                      "calls the variant refused (assert-irqs-enabled with irqs off)"};
  sim::Metric expected_runs{*this, "smp_call.expected_runs", "count",
                            "function runs the calls made ask for (one per target)"};
  sim::Counter runs{*this, "smp_call.runs", "function runs that happened"};
  sim::Counter duplicate_runs{*this, "smp_call.duplicate_runs",
                              "runs beyond what their call asked for"};
  sim::Metric not_run{*this, "smp_call.not_run", "count",
                      "runs asked for that never happened (by the end of the run)"};
  sim::Counter callers_finished{*this, "smp_call.callers_finished",
                                "ipi_storm callers that finished their `count` calls"};
  sim::Distribution latency_ns{*this, "smp_call.latency_ns", "ns",
                               "from a call to its completion as the caller sees it"};
};

class CallLedger {
 public:
  // A call expected to run `runs` times (once per target); returns its id.
  std::size_t issue(int runs);
  void ran(std::size_t id);
  void completed(sim::Tick latency) { metrics_.latency_ns.add(latency / sim::kNanosecond); }
  // The call was refused before it was made: nothing will run it.
  void refused(std::size_t id);
  void caller_finished() { ++metrics_.callers_finished; }
  const CallLedgerMetrics& metrics() const { return metrics_; }
  void collect_metrics(sim::Metrics& out) const;

 private:
  std::vector<int> expected_;
  std::vector<int> runs_;
  std::uint64_t refused_ = 0;
  CallLedgerMetrics metrics_;
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
