// The lock_torture workload (modelled on kernel/locking/locktorture.c) and the locks it takes:
// each task draws a lock from its `locks`, acquires it (optionally with irqs off), holds it for a
// drawn critical section, releases it and thinks (the last `user_percent` of the think time in
// guest user mode, as a task back in user space between system calls). Around the algorithm it measures what a user
// asks about: acquisitions, wait latency, time spinning vs halted, lock-holder and lock-waiter
// preemptions, cacheline transfers per acquisition, kicks, halts and pause-loop exits per lock.
// It feeds the mutual_exclusion check.
#pragma once
#include <deque>
#include <memory>
#include <vector>

#include "guest/guest_params.hpp"
#include "guest/locks/spinlock.hpp"
#include "guest/sched.hpp"
#include "sim/checks/lock_checks.hpp"
#include "sim/core/rng.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// What lock_torture measures, per lock (locks.lock<N>.*, N as in guest.locks) and over all locks.
struct LockTortureMetrics : sim::MetricGroup {
  LockTortureMetrics() : MetricGroup("lock_torture") {}
  // Declared for each lock and for all of them: a member per pattern.
  struct Both {
    sim::Metric lock;
    sim::Metric all;
  };
  Both acquisitions{{*this, "locks.lock<N>.acquisitions", "count", "acquisitions of that lock"},
                    {*this, "locks.acquisitions", "count", "acquisitions of every lock"}};
  Both acquisitions_per_s{
      {*this, "locks.lock<N>.acquisitions_per_s", "1/s",
       "acquisitions of that lock per simulated second"},
      {*this, "locks.acquisitions_per_s", "1/s", "acquisitions per simulated second, every lock"}};
  Both wait_ns{{*this, "locks.lock<N>.wait_ns", "ns", "from calling lock() to holding that lock",
                sim::MetricShape::kSummary},
               {*this, "locks.wait_ns", "ns", "from calling lock() to holding a lock, every lock",
                sim::MetricShape::kSummary}};
  Both spin_ns{{*this, "locks.lock<N>.spin_ns", "ns", "time waiters of that lock spent spinning"},
               {*this, "locks.spin_ns", "ns", "time waiters spent spinning, every lock"}};
  Both halted_ns{{*this, "locks.lock<N>.halted_ns", "ns", "time waiters of that lock spent halted"},
                 {*this, "locks.halted_ns", "ns", "time waiters spent halted, every lock"}};
  Both holder_preemptions{
      {*this, "locks.lock<N>.holder_preemptions", "count",
       "host preemptions of that lock's holder while it had waiters (lock-holder preemption)"},
      {*this, "locks.holder_preemptions", "count", "lock-holder preemptions, every lock"}};
  Both waiter_preemptions{
      {*this, "locks.lock<N>.waiter_preemptions", "count",
       "that lock freed while the waiter next in line was preempted (lock-waiter preemption)"},
      {*this, "locks.waiter_preemptions", "count", "lock-waiter preemptions, every lock"}};
  Both kicks{{*this, "locks.lock<N>.kicks", "count", "pv_kick calls of that lock's unlockers"},
             {*this, "locks.kicks", "count", "pv_kick calls of unlockers, every lock"}};
  Both halts{{*this, "locks.lock<N>.halts", "count", "halts (pv_wait) of that lock's waiters"},
             {*this, "locks.halts", "count", "halts (pv_wait) of waiters, every lock"}};
  Both ple_exits{
      {*this, "locks.lock<N>.ple_exits", "count", "pause-loop exits of that lock's waiters"},
      {*this, "locks.ple_exits", "count", "pause-loop exits of waiters, every lock"}};
  Both transfers{
      {*this, "locks.lock<N>.transfers", "count", "cacheline transfers of that lock's own words"},
      {*this, "locks.transfers", "count",
       "cacheline transfers of every lock's words and the algorithm's shared state"}};
  sim::Metric kind{*this, "locks.kind", "", "the lock algorithm (guest.locks.kind)",
                   sim::MetricShape::kText};
  sim::Metric steals{*this, "locks.steals", "count",
                     "lock steals past the queue (only the pvqspinlock eras that steal)"};
  sim::Metric steals_while_head_halted{*this, "locks.steals_while_head_halted", "count",
                                       "of those, steals while the queue head was halted"};
  sim::Metric transfers_per_acquisition{*this, "locks.transfers_per_acquisition", "count",
                                        "locks.transfers / locks.acquisitions"};
};

class LockTorture {
 public:
  // Creates guest.locks.count locks of guest.locks.kind.
  LockTorture(cpu::Machine& machine, const LockParams& params, sim::MutualExclusionCheck* mutex);
  // The body of one lock_torture task on vCPU `vcpu`.
  void run(cpu::GuestCpu& cpu, const WorkloadParams& p);
  void collect_metrics(sim::Metrics& out, sim::Tick end) const;

 private:
  struct Stats {
    std::unique_ptr<Spinlock> lock;
    int holder = -1;
    std::deque<int> waiters;  // vCPUs in lock(), in arrival order
    std::uint64_t acquisitions = 0;
    sim::Samples wait_ns;
    sim::Tick spin = 0;
    sim::Tick halted = 0;
    std::uint64_t holder_preemptions = 0;
    std::uint64_t waiter_preemptions = 0;
    std::uint64_t kicks = 0;
    std::uint64_t halts = 0;
    std::uint64_t ple_exits = 0;
  };
  void acquire(cpu::GuestCpu& cpu, int index);
  void release(cpu::GuestCpu& cpu, int index);
  // The host preempted vCPU `v`: a holder with waiters, or a next-in-line waiter of a free lock.
  void preempted(int v);
  // The lock just became free: is the waiter that must take it preempted?
  void check_waiter_preemption(int index);
  bool vcpu_preempted(int v);
  sim::Tick draw(sim::Rng& rng, sim::Tick mean, bool exponential);
  std::uint64_t transfers(const Stats& s) const;

  cpu::Machine& machine_;
  LockKit kit_;
  sim::MutualExclusionCheck* mutex_;
  std::vector<Stats> locks_;
  LockTortureMetrics metrics_;
};

}  // namespace vcpusim::guest
