// Tree RCU in spirit (kernel/rcu/tree.c), non-preemptible flavour with a single rcu_node: read
// sections are preempt_disable() regions; quiescent states are reported at context switch
// (rcu_note_context_switch), idle entry and cond_resched (rcu_all_qs) by clearing the CPU's bit in
// the node's qsmask; a grace-period kthread (rcu_gp_kthread, a guest task) starts grace periods on
// request, scans for idle CPUs every fqs_interval (rcu_gp_fqs: an even dynticks counter, or one
// that moved since the first scan, is an extended quiescent state), and cleans up. call_rcu
// queues on a per-CPU list, each callback tagged with the grace period it needs
// (rcu_seq_snap); the CPU invokes its ready callbacks at its own quiescent points (rcu_do_batch).
// synchronize_rcu is call_rcu plus a completion (wait_rcu_gp).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/rcu_monitor.hpp"
#include "guest/rcu_params.hpp"
#include "guest/sched.hpp"

namespace vcpusim::guest {

class Rcu {
 public:
  using Callback = std::function<void(cpu::GuestCpu&)>;
  // Spawns the grace-period kthread and installs the scheduler hooks.
  Rcu(cpu::Machine& machine, GuestScheduler& sched, const RcuParams& params);

  void read_lock(cpu::GuestCpu& cpu);
  void read_unlock(cpu::GuestCpu& cpu);
  void call(cpu::GuestCpu& cpu, Callback fn);  // call_rcu
  void synchronize(cpu::GuestCpu& cpu);        // synchronize_rcu
  // rcu_seq_snap: the gp_seq value at which a grace period starting after now has ended.
  std::uint64_t snap(cpu::GuestCpu& cpu);
  // rcu_seq_done: true once gp_seq reached `s`.
  bool done(cpu::GuestCpu& cpu, std::uint64_t s);

  RcuMonitor& monitor() { return monitor_; }
  const RcuMonitor& monitor() const { return monitor_; }

 private:
  struct Queued {
    Callback fn;
    std::uint64_t snap;
  };
  struct PerCpu {                     // struct rcu_data
    cpu::Word* dynticks = nullptr;    // odd: running; even: idle (extended quiescent state)
    cpu::Word* cblist_len = nullptr;  // the callback list lands with it
    std::deque<Queued> cbs;
    bool in_eqs = false;
    std::uint64_t fqs_snap = 0;  // dynticks at the grace period's first scan
  };
  PerCpu& pc(int cpu) { return percpu_[static_cast<std::size_t>(cpu)]; }
  void gp_kthread(cpu::GuestCpu& cpu);
  void gp_init(cpu::GuestCpu& cpu);
  void force_qs(cpu::GuestCpu& cpu, bool first);
  void gp_cleanup(cpu::GuestCpu& cpu);
  // The CPU's quiescent state (rcu_qs + rcu_report_qs_rdp).
  void note_qs(cpu::GuestCpu& cpu, QsReason why);
  // Clears `who`'s bit in qsmask (rcu_report_qs_rnp); true when it was the last one.
  bool report_qs(cpu::GuestCpu& cpu, int who, QsReason why);
  void do_batch(cpu::GuestCpu& cpu);
  void on_switch(cpu::GuestCpu& cpu);
  void on_idle(cpu::GuestCpu& cpu);
  void on_cond_resched(cpu::GuestCpu& cpu);
  int& nesting(cpu::GuestCpu& cpu) { return nesting_[&sched_.current(cpu.id())]; }

  cpu::Machine& machine_;
  GuestScheduler& sched_;
  const RcuParams& params_;
  RcuMonitor monitor_;
  cpu::Word& gp_seq_;         // rcu_state.gp_seq: odd while a grace period runs
  cpu::Word& gp_seq_needed_;  // the latest gp_seq a caller waits for
  cpu::Word& qsmask_;         // the root rcu_node: CPUs yet to report
  std::uint64_t all_cpus_ = 0;
  std::vector<PerCpu> percpu_;
  Task* kthread_ = nullptr;
  std::map<const Task*, int> nesting_;  // preempt_count's RCU part, per task
  std::map<const Task*, std::unique_ptr<Completion>> sync_done_;
  std::uint64_t pending_ = 0;  // callbacks queued on all CPUs
};

}  // namespace vcpusim::guest
