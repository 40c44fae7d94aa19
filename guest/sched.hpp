// Guest tasks and the guest's scheduler (kernel/sched/core.c, a non-preemptible kernel): a run
// queue per vCPU, schedule(), try_to_wake_up(), cond_resched(), schedule_timeout() on the vCPU's
// one-shot timer, and the idle task. A task switches only when it blocks or calls cond_resched;
// interrupts nest on whichever task runs. Waking a task on another vCPU sends it a reschedule IPI
// unless that vCPU's idle task is polling (guest haltpoll, drivers/cpuidle/cpuidle-haltpoll.c).
// Context-switch and idle hooks let RCU count quiescent states.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

struct GuestSchedMetrics : sim::MetricGroup {
  GuestSchedMetrics() : MetricGroup("guest scheduler") {}
  sim::Counter context_switches{*this, "guest.context_switches",
                                "guest task switches (schedule() picking another task)"};
  sim::Counter resched_ipis{*this, "guest.resched_ipis",
                            "reschedule IPIs a wake-up sent to another vCPU"};
};

struct Task {
  enum class State { kRunning, kRunnable, kSleeping, kDead };
  std::string name;
  int vcpu = 0;
  int context = 0;
  State state = State::kRunnable;
  // p->on_rq: queued or running. __schedule() clears it when it takes a sleeping task off its
  // CPU; until then a wake-up only sets the state back to running (ttwu_runnable).
  bool on_rq = true;
  sim::Tick wake_at = sim::kForever;  // schedule_timeout's deadline
};

class GuestScheduler {
 public:
  using Hook = std::function<void(cpu::GuestCpu&)>;
  // Installs the idle task (context 0) and the reschedule IPI handler on every vCPU.
  GuestScheduler(cpu::Machine& machine, sim::Tick haltpoll);

  // A task on `vcpu` running `body` (before the run). It becomes runnable at boot.
  Task& spawn(int vcpu, std::string name, std::function<void(cpu::GuestCpu&)> body);
  Task& current(int vcpu) { return *rq(vcpu).curr; }
  bool idle(int vcpu) { return rq(vcpu).curr == rq(vcpu).idle.get(); }

  // Gives up the CPU; the caller set the current task's state first (kRunnable: yield,
  // kSleeping: block until woken).
  void schedule(cpu::GuestCpu& cpu);
  // try_to_wake_up(): a sleeping task becomes runnable on its vCPU. Returns false if it was not
  // sleeping.
  bool wake_up(cpu::GuestCpu& cpu, Task& task);
  // Switches if another task waits on this vCPU.
  void cond_resched(cpu::GuestCpu& cpu);
  // What cond_resched() touches on `vcpu` while it has no task to switch to (lookahead,
  // cpu/vm/footprint.hpp); false when it also runs hooks, which may touch anything.
  bool cond_resched_words(int vcpu, std::vector<const cpu::Word*>& words);
  // Tasks spawned on `vcpu` so far (not counting its idle task).
  int tasks_on(int vcpu) { return static_cast<int>(rq(vcpu).queue.size()); }
  // schedule_timeout(): sleeps `d`, woken by this vCPU's timer interrupt.
  void sleep_for(cpu::GuestCpu& cpu, sim::Tick d);
  // The timer interrupt's part: wakes the sleepers whose deadline passed and re-arms.
  void expire_timers(cpu::GuestCpu& cpu);
  // wait_event_timeout(): sleeps until `cond` holds or `timeout` passed (sim::kForever: none).
  // The task is marked sleeping before `cond` runs (prepare_to_wait), so a waker that changes
  // the condition and calls wake_up() meanwhile is not lost. Returns the last `cond`.
  bool wait_event(cpu::GuestCpu& cpu, const std::function<bool()>& cond, sim::Tick timeout);

  // Run at the start of schedule() (rcu_note_context_switch: a wake-up from a hook still finds
  // the caller on its CPU), at each idle-loop pass before halting, and in cond_resched().
  void on_context_switch(Hook h) { switch_hooks_.push_back(std::move(h)); }
  void on_idle(Hook h) { idle_hooks_.push_back(std::move(h)); }
  void on_cond_resched(Hook h) { resched_hooks_.push_back(std::move(h)); }

  std::uint64_t context_switches() const { return metrics_.context_switches.value(); }
  std::uint64_t resched_ipis() const { return metrics_.resched_ipis.value(); }
  void collect_metrics(sim::Metrics& out) const { metrics_.collect(out); }
  std::uint64_t ipis_skipped_polling() const { return ipis_skipped_; }

 private:
  struct RunQueue {
    cpu::Word* nr_running = nullptr;  // tasks waiting for this vCPU; the queue lands with it
    cpu::Word* polling = nullptr;     // the idle task polls instead of halting
    std::deque<Task*> queue;
    std::vector<Task*> sleepers;
    Task* curr = nullptr;
    std::unique_ptr<Task> idle;
  };
  RunQueue& rq(int vcpu) { return rqs_[static_cast<std::size_t>(vcpu)]; }
  void idle_loop(cpu::GuestCpu& cpu);
  void arm_next_timer(cpu::GuestCpu& cpu);

  cpu::Machine& machine_;
  sim::Tick haltpoll_;
  std::vector<RunQueue> rqs_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<Hook> switch_hooks_;
  std::vector<Hook> idle_hooks_;
  std::vector<Hook> resched_hooks_;
  GuestSchedMetrics metrics_;
  std::uint64_t ipis_skipped_ = 0;
};

// A raw spinlock for the scheduler's own structures (test-and-set: the wait queues hold it only
// for a few operations).
class RawSpinlock {
 public:
  explicit RawSpinlock(cpu::Word& word) : word_(word) {}
  void lock(cpu::GuestCpu& cpu);
  void unlock(cpu::GuestCpu& cpu) { cpu.store(word_, 0); }

 private:
  cpu::Word& word_;
};

// struct completion (kernel/sched/completion.c): `done` and a wait queue under its lock.
class Completion {
 public:
  Completion(cpu::Machine& machine, GuestScheduler& sched, const std::string& name);
  void wait(cpu::GuestCpu& cpu);      // wait_for_completion
  void complete(cpu::GuestCpu& cpu);  // complete: one waiter

 private:
  GuestScheduler& sched_;
  cpu::Word& done_;
  RawSpinlock lock_;
  std::deque<Task*> waiters_;
};

}  // namespace vcpusim::guest
