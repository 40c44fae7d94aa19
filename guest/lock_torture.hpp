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
#include "sim/lock_checks.hpp"
#include "sim/metrics.hpp"
#include "sim/rng.hpp"

namespace vcpusim::guest {

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
};

}  // namespace vcpusim::guest
