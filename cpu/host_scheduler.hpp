// The host: per-pCPU current thread and run queue, thread placement within affinity, slices,
// wake-up preemption, and the work timer of the running thread. Policies decide the order.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "cpu/host_thread.hpp"
#include "cpu/params.hpp"
#include "cpu/sched_policy.hpp"
#include "sim/decision.hpp"
#include "sim/kernel.hpp"

namespace vcpusim::cpu {

class HostScheduler {
 public:
  HostScheduler(sim::Kernel& kernel, const SchedulerParams& params, int pcpus);

  void add(HostThread& t);
  // Where the host could choose otherwise (which idle pCPU a waking thread takes, which of
  // equally entitled threads runs next) it asks this source; the default run takes the first.
  void set_decisions(sim::DecisionSource* d);
  // Sleeping -> runnable: placed on a pCPU of its affinity; may preempt the current thread.
  void wake(HostThread& t);
  // Running or runnable -> sleeping.
  void sleep(HostThread& t);
  // The CPU time `t` needs before on_work_done(); sim::kForever for "until told otherwise".
  void set_work(HostThread& t, Tick work);
  // What is left of it now (settled first).
  Tick work_left(HostThread& t);
  // yield_to() (kernel/sched/core.c): `curr` gives its pCPU up for `target`, a runnable thread.
  // On another pCPU the target becomes the next buddy there, taken if that is not too unfair;
  // the yielder steps aside if anything else waits on its own pCPU. Returns 1 when the target
  // was boosted, -1 when it cannot be (not runnable: running or asleep).
  int yield_to(HostThread& curr, HostThread& target);
  // The host takes `pcpu` from its threads until `until` (an RT task or an interrupt storm: an
  // explore preemption point). The running thread is preempted and stays runnable; nothing runs
  // there until then.
  void steal(int pcpu, Tick until);
  // CPU bandwidth control (cpu/cpu_bandwidth.hpp): a throttled thread leaves its pCPU and run
  // queue but stays runnable (its wait goes on: steal for a vCPU); a wake-up meanwhile only marks
  // it runnable. unthrottle() queues it again, preempting as a wake-up would.
  void throttle(HostThread& t);
  void unthrottle(HostThread& t);
  // Told whenever a thread starts (true) or stops (false) running; one observer.
  void set_run_observer(std::function<void(HostThread&, bool)> f) { run_observer_ = std::move(f); }
  HostThread* current(int pcpu) const { return pcpus_[static_cast<std::size_t>(pcpu)].current; }
  int pcpus() const { return static_cast<int>(pcpus_.size()); }
  const SchedPolicy& policy() const { return *policy_; }

  // Accounting up to now for every open segment (call at the end of a run).
  void settle_all();
  Tick busy_time(int pcpu, HostThread::Kind kind) const;
  std::uint64_t context_switches() const { return switches_; }

 private:
  struct Pcpu {
    HostThread* current = nullptr;
    sim::EventKey slice_event;
    Tick busy[2] = {0, 0};  // by HostThread::Kind
    int component = -1;     // registered id (sim::Components)
    Tick stolen_until = 0;  // see steal()
  };
  bool stolen(int pcpu) const {
    return pcpus_[static_cast<std::size_t>(pcpu)].stolen_until > kernel_.now();
  }
  bool idle(int pcpu) const { return !current(pcpu) && !stolen(pcpu); }
  void settle(HostThread& t);
  // Entry points settle the running thread of every pCPU they decide about first, so a decision
  // never depends on how often accounting was settled before (temporal decoupling settles less).
  void settle_pcpu(int pcpu);
  void arm_work(HostThread& t);
  void arm_slice(int pcpu);
  void slice_expired(int pcpu);
  void dispatch(int pcpu, HostThread& next);
  void deschedule_current(int pcpu);
  void schedule_next(int pcpu);
  int select_pcpu(const HostThread& t) const;
  void record(int pcpu, const char* what, const HostThread* t);

  sim::Kernel& kernel_;
  sim::DecisionSource* decisions_ = nullptr;
  std::unique_ptr<SchedPolicy> policy_;
  std::vector<Pcpu> pcpus_;
  std::vector<HostThread*> threads_;
  std::uint64_t switches_ = 0;
  std::function<void(HostThread&, bool)> run_observer_;
};

}  // namespace vcpusim::cpu
