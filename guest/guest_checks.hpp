// The checks the guest feeds or reports, as the registry declares them: monotonic_time (the
// clock readers' values), api_misuse (cross-CPU calls), rcu_reader_spans_gp and rcu_stall (the
// RCU monitor), use_after_free (guest objects), mutual_exclusion (lock_torture's locks) and
// hash_lookup (the pvqspinlock's lock hash).
#pragma once
#include "cpu/check_registry.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// What the monotonic_time check counts, next to its violations (when it is enabled).
struct MonotonicTimeMetrics : sim::MetricGroup {
  MonotonicTimeMetrics() : MetricGroup("monotonic_time check") {}
  sim::Metric reads{*this, "checks.monotonic_time.reads", "count", "clock reads the check saw"};
  sim::Metric backward_reads{*this, "checks.monotonic_time.backward_reads", "count",
                             "reads that returned less than a value read before them"};
  sim::Metric episodes_by_reader{*this, "checks.monotonic_time.episodes_by_reader", "",
                                 "backward episodes per reader vCPU that had any "
                                 "({\"vCPU3\": 2})",
                                 sim::MetricShape::kObject};
};

cpu::CheckSpec monotonic_time_check();
cpu::CheckSpec api_misuse_check();
cpu::CheckSpec rcu_reader_spans_gp_check();
cpu::CheckSpec rcu_stall_check();
cpu::CheckSpec use_after_free_check();
cpu::CheckSpec mutual_exclusion_check();
cpu::CheckSpec hash_lookup_check();

}  // namespace vcpusim::guest
