// Sleepable RCU, one domain (struct srcu_struct), following kernel/rcu/srcutree.c in spirit:
// readers increment this CPU's lock counter of the current index and, at the end, the unlock
// counter of the same index (srcu_read_lock / srcu_read_unlock); a grace period waits until the
// inactive index has no readers, flips the index, and waits until the old one drains
// (srcu_readers_active_idx_check: sum of unlocks, full barrier, sum of locks). A scan that finds
// readers re-checks after srcu_retry_check_delay (5 us) a couple of times, then sleeps
// SRCU_INTERVAL. Domains share nothing, so a sleeping reader delays only its own domain.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/rcu_params.hpp"
#include "guest/sched.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// Per domain: guest.rcu's SRCU domains (rcu_system.hpp names them domain<N>) and the mmu
// notifiers' own.
struct SrcuMetrics : sim::MetricGroup {
  SrcuMetrics() : MetricGroup("srcu") {}
  sim::Metric grace_periods{*this, "srcu.{domain<N>,mmu_notifier}.grace_periods", "count",
                            "SRCU grace periods of that domain"};
  sim::Metric reader_scans{*this, "srcu.{domain<N>,mmu_notifier}.reader_scans", "count",
                           "scans for readers of an index (srcu_readers_active_idx_check)"};
  sim::Metric sync_latency_ns{*this, "srcu.{domain<N>,mmu_notifier}.sync_latency_ns", "ns",
                              "synchronize_srcu calls of that domain, call to return",
                              sim::MetricShape::kSummary};
};

class Srcu {
 public:
  Srcu(cpu::Machine& machine, GuestScheduler& sched, const RcuParams& params, std::string name);
  int read_lock(cpu::GuestCpu& cpu);
  void read_unlock(cpu::GuestCpu& cpu, int idx);
  void synchronize(cpu::GuestCpu& cpu);  // synchronize_srcu
  const std::string& name() const { return name_; }
  void collect_metrics(sim::Metrics& out) const;

 private:
  struct PerCpu {  // struct srcu_data
    cpu::Word* lock_count[2];
    cpu::Word* unlock_count[2];
  };
  bool readers_gone(cpu::GuestCpu& cpu, int idx);
  void wait_readers(cpu::GuestCpu& cpu, int idx);

  GuestScheduler& sched_;
  const RcuParams& params_;
  std::string name_;
  cpu::Word& idx_;      // srcu_idx
  cpu::Word& gp_lock_;  // srcu_gp_mutex: one grace period at a time
  std::vector<PerCpu> percpu_;
  std::uint64_t gps_ = 0;
  std::uint64_t scans_ = 0;
  sim::Samples sync_ns_;
  SrcuMetrics metrics_;
};

}  // namespace vcpusim::guest
