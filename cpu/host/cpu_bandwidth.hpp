// CPU bandwidth control of the VM's cgroup (vm.cpu_max, cgroup v2 cpu.max "QUOTA PERIOD"), as
// CFS does it in Linux 6.5 (kernel/sched/fair.c): the vCPU threads' run time is charged to one
// pool (account_cfs_rq_runtime); when the pool is empty every vCPU thread is throttled
// (throttle_cfs_rq) until the period timer refills it to the quota (sched_cfs_period_timer,
// __refill_cfs_bandwidth_runtime) and distribute_cfs_runtime unthrottles them.
//
// Simplification: the kernel hands runtime to each CPU's cfs_rq in slices
// (sched_cfs_bandwidth_slice_us, 5 ms) and a CPU may finish its slice after the pool is empty,
// so a period can overrun the quota by up to a slice per CPU; here the pool is charged exactly,
// so the VM never runs more than the quota in a period. The pool is charged event by event from
// the scheduler's dispatch / deschedule notifications: no polling, and the same whether the
// running vCPUs were settled often or not (temporal decoupling).
#pragma once
#include <vector>

#include "cpu/host/host_scheduler.hpp"
#include "cpu/host/noise_params.hpp"
#include "sim/core/kernel.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::cpu {

// cpu.stat of the VM's cgroup, and per vCPU thread.
struct CpuBandwidthMetrics : sim::MetricGroup {
  CpuBandwidthMetrics() : MetricGroup("cpu bandwidth") {}
  sim::Metric periods{*this, "vm.cpu_max.periods", "count", "cpu.max periods elapsed (nr_periods)"};
  sim::Metric throttled_periods{*this, "vm.cpu_max.throttled_periods", "count",
                                "periods in which the VM was throttled (nr_throttled)"};
  sim::Metric throttled_ns{*this, "vm.cpu_max.throttled_ns", "ns",
                           "time the VM spent throttled (throttled_usec)"};
  sim::Metric vcpu_throttled_ns{*this, "vcpu<N>.throttled_ns", "ns",
                                "time that vCPU's thread spent throttled"};
  sim::Metric vcpu_throttles{*this, "vcpu<N>.throttles", "count",
                             "times that vCPU's thread was throttled"};
};

class CpuBandwidth {
 public:
  // `threads`: the VM's vCPU threads. Installs the scheduler's run observer.
  CpuBandwidth(const CpuMaxParams& params, std::vector<HostThread*> threads, sim::Kernel& kernel,
               HostScheduler& scheduler, int component);
  CpuBandwidth(const CpuBandwidth&) = delete;
  CpuBandwidth& operator=(const CpuBandwidth&) = delete;
  void start();
  // cpu.stat: vm.cpu_max.periods, .throttled_periods, .throttled_ns; per vCPU
  // vcpuN.throttled_ns and .throttles.
  void collect_metrics(sim::Metrics& metrics);
  const CpuBandwidthMetrics& metrics() const { return metrics_; }

  Tick quota() const { return quota_; }
  Tick period() const { return period_; }

 private:
  void on_run(HostThread& t, bool running);
  // Charges the pool with what the running threads used since the last charge.
  void charge();
  void arm_exhaustion();
  void exhausted();
  void refill();

  Tick quota_, period_;
  std::vector<HostThread*> threads_;
  sim::Kernel& kernel_;
  HostScheduler& scheduler_;
  int component_;
  Tick remaining_;
  Tick charged_at_ = 0;
  int running_ = 0;
  bool throttled_ = false;
  Tick throttled_since_ = 0;
  sim::EventKey exhaustion_;
  std::uint64_t periods_ = 0, throttled_periods_ = 0;
  Tick throttled_time_ = 0;
  std::vector<Tick> thread_throttled_since_;
  std::vector<Tick> thread_throttled_time_;
  std::vector<std::uint64_t> thread_throttles_;
  CpuBandwidthMetrics metrics_;
};

}  // namespace vcpusim::cpu
