// The host: per-pCPU current thread and run queue, thread placement within affinity, slices,
// wake-up preemption, and the work timer of the running thread. Policies decide the order.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "cpu/host/host_thread.hpp"
#include "cpu/host/load_balancer.hpp"
#include "cpu/host/sched_policy.hpp"
#include "cpu/host/topology.hpp"
#include "cpu/params.hpp"
#include "sim/core/decision.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::cpu {

class HostScheduler {
 public:
  // CFS load balancing (LoadBalancer) runs with the fair policy when params.balance is set.
  HostScheduler(sim::Kernel& kernel, const SchedulerParams& params, const Topology& topology);
  ~HostScheduler();

  void add(HostThread& t);
  // Where the host could choose otherwise (which idle pCPU a waking thread takes, which of
  // equally entitled threads runs next) it asks this source; the default run takes the first.
  void set_decisions(sim::DecisionSource* d);
  // Arms the load balancer's timers (before the kernel runs).
  void start();
  // Sleeping -> runnable: placed on a pCPU of its affinity; may preempt the current thread.
  // `waker`: the pCPU whose thread woke it, or -1 (an interrupt on its previous pCPU).
  void wake(HostThread& t, int waker = -1);
  // Running or runnable -> sleeping.
  void sleep(HostThread& t);
  // The CPU time `t` needs before on_work_done(); sim::kForever for "until told otherwise".
  void set_work(HostThread& t, Tick work);
  // What is left of it now (settled first).
  Tick work_left(HostThread& t);
  // The vCPU thread `t` switches between guest kernel and user mode: its run time so far is
  // settled under the old mode, the time from now on counts as user time while `user`.
  void set_guest_user(HostThread& t, bool user);
  // yield_to() (kernel/sched/core.c, Linux 6.5), in the kernel's order: both run queues with
  // one task each -> kEsrch; the target running or asleep -> kNotYielded; otherwise
  // yield_to_task_fair: the target becomes the next buddy of its run queue, which is
  // rescheduled (on another pCPU the current thread keeps running if the buddy is more than a
  // wake-up granularity behind: pick_next_entity), and the yielder calls schedule() (yield()).
  enum YieldResult : int { kEsrch = -3, kNotYielded = 0, kYielded = 1 };
  YieldResult yield_to(HostThread& curr, HostThread& target);
  // yield_task_fair + schedule() for the running `curr`: it steps aside if anything else waits
  // on its pCPU.
  void yield(HostThread& curr);
  // rq->nr_running: the running thread (or the host's steal) plus the queued ones.
  int nr_running(int pcpu) const;
  // The host takes `pcpu` from its threads until `until` (an RT task or an interrupt storm: an
  // explore preemption point). The running thread is preempted and stays runnable; nothing runs
  // there until then.
  void steal(int pcpu, Tick until);
  // CPU bandwidth control (cpu/host/cpu_bandwidth.hpp): a throttled thread leaves its pCPU and run
  // queue but stays runnable (its wait goes on: steal for a vCPU); a wake-up meanwhile only marks
  // it runnable. unthrottle() queues it again, preempting as a wake-up would.
  void throttle(HostThread& t);
  void unthrottle(HostThread& t);
  // Lookahead: the work event armed for `t`, if transparent, becomes a barrier (what runs when
  // it completes is no longer the declared code: an interrupt is pending).
  void make_work_barrier(HostThread& t);
  // Told whenever a thread starts (true) or stops (false) running; one observer.
  void set_run_observer(std::function<void(HostThread&, bool)> f) { run_observer_ = std::move(f); }
  // Every host thread, in the order added (their ids).
  const std::vector<HostThread*>& threads() const { return threads_; }
  // The registered component of `pcpu` (what its events are recorded under).
  int pcpu_component(int pcpu) const { return pcpus_[static_cast<std::size_t>(pcpu)].component; }
  HostThread* current(int pcpu) const { return pcpus_[static_cast<std::size_t>(pcpu)].current; }
  int pcpus() const { return static_cast<int>(pcpus_.size()); }
  const SchedPolicy& policy() const { return *policy_; }

  // Accounting up to now for every open segment (call at the end of a run).
  void settle_all();
  Tick busy_time(int pcpu, HostThread::Kind kind) const;
  std::uint64_t context_switches() const { return switches_; }
  std::uint64_t migrations() const { return migrations_; }
  bool balancing() const { return balancer_ != nullptr; }

 private:
  friend class LoadBalancer;
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
  // The work and slice events (EventCall::member): a thread's address, a pCPU.
  void work_done(std::uint64_t thread);
  void slice_event_fired(std::uint64_t pcpu);
  void dispatch(int pcpu, HostThread& next);
  void deschedule_current(int pcpu);
  void schedule_next(int pcpu);
  int select_pcpu(const HostThread& t, int waker);
  // The sum of the nice weights of the runnable, unthrottled threads of `pcpu` (running included).
  std::int64_t load(int pcpu) const;
  std::vector<HostThread*> queued_threads(int pcpu) const;
  // The balancer moves runnable, not running `t` from `from`'s run queue to `to`'s
  // (detach_task / attach_task): counted, traced ("migrate"), and it may preempt there.
  void migrate_queued(HostThread& t, int from, int to);
  void record(int pcpu, const char* what, const HostThread* t);

  sim::Kernel& kernel_;
  sim::DecisionSource* decisions_ = nullptr;
  std::unique_ptr<SchedPolicy> policy_;
  std::vector<Pcpu> pcpus_;
  std::vector<HostThread*> threads_;
  std::unique_ptr<LoadBalancer> balancer_;
  std::uint64_t switches_ = 0;
  std::uint64_t migrations_ = 0;
  std::function<void(HostThread&, bool)> run_observer_;
};

}  // namespace vcpusim::cpu
