// The KVM-like hypervisor: it owns what happens between a VM exit and the next entry. Hypercalls
// (KICK_CPU, SCHED_YIELD; SEND_IPI is in apic.hpp) cost an exit, their handling and an entry;
// pv_unhalted lets a kick wake a halted vCPU even with irqs off; pause-loop exiting ends a long
// spin with an exit and a directed yield (kvm_vcpu_on_spin: a preempted, runnable candidate,
// round-robin after the last boosted one, at most three failed tries) through the host
// scheduler's yield_to; the steal-time page's `preempted` flag is a guest-readable word the host
// writes at deschedule and clears at entry; halt-polling keeps a halted vCPU's thread polling on
// its pCPU for a per-vCPU window that grows and shrinks with the halts it sees (kvm_vcpu_halt,
// grow_halt_poll_ns, shrink_halt_poll_ns). (virt/kvm/kvm_main.c, arch/x86/kvm/x86.c,
// arch/x86/kvm/vmx/vmx.c; MECHANISMS.md sections 3 and 6.)
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "cpu/params.hpp"
#include "cpu/vm/memory.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::cpu {

class Machine;
class Vcpu;

// What the hypervisor counts (kvm_vcpu_stat in spirit).
struct HypervisorMetrics : sim::MetricGroup {
  HypervisorMetrics() : MetricGroup("hypervisor") {}
  sim::Counter kicks{*this, "kvm.kicks", "KVM_HC_KICK_CPU hypercalls (pv_kick)"};
  sim::Counter ple_exits{*this, "kvm.ple_exits", "pause-loop exits"};
  sim::Counter directed_yields{*this, "kvm.directed_yields",
                               "kvm_vcpu_on_spin scans that yielded to another vCPU"};
  sim::Counter failed_yields{*this, "kvm.failed_yields",
                             "yield_to attempts of kvm_vcpu_on_spin that failed (-ESRCH)"};
  sim::Counter yield_skipped_user{
      *this, "kvm.yield_skipped_user",
      "kvm_vcpu_on_spin candidates passed over by the in-kernel filter (preempted in user mode)"};
  sim::Counter sched_yields{*this, "kvm.sched_yields",
                            "KVM_HC_SCHED_YIELD hypercalls that yielded to a runnable vCPU"};
  sim::Counter halt_poll_success{*this, "kvm.halt_poll_success",
                                 "halts that ended while halt-polling (the thread never slept)"};
  sim::Counter halt_poll_fail{*this, "kvm.halt_poll_fail", "halts that polled, then slept"};
  sim::Counter halt_poll_grow{*this, "kvm.halt_poll_grow", "halt-polling windows grown"};
  sim::Counter halt_poll_shrink{*this, "kvm.halt_poll_shrink", "halt-polling windows shrunk"};
  sim::Distribution halt_wakeup_ns{
      *this, "kvm.halt_wakeup_ns", "ns",
      "from a kick or IPI to a halted vCPU until it runs guest code (only when one was woken)"};
};

class Hypervisor {
 public:
  Hypervisor(Machine& machine, const VmParams& vm, Vendor vendor);
  // Steal-time pages, one word per vCPU, on their own cachelines (after the vCPUs exist).
  void create_steal_time(int vcpus);

  bool pv_unhalt() const { return pv_unhalt_; }
  // KVM_VCPU_PREEMPTED of `vcpu`'s steal-time page (guest reads it with vcpu_is_preempted()).
  Word& preempted_word(int vcpu) { return *preempted_[static_cast<std::size_t>(vcpu)]; }

  // Called with the vCPU's index whenever the host preempts a runnable vCPU (instrumentation:
  // lock-holder preemption statistics).
  void add_preempt_observer(std::function<void(int)> f) {
    preempt_observers_.push_back(std::move(f));
  }

  // Host scheduler callbacks through the vCPU thread.
  void scheduled_out(Vcpu& v, bool runnable);
  void scheduled_in(Vcpu& v);

  // Hypercall handling, run on the calling vCPU's thread between its exit and its entry.
  void kick_cpu(Vcpu& from, int target);
  void sched_yield(Vcpu& from, int target);

  // Pause-loop exiting: the spin time after which `v` exits (sim::kForever when the hardware
  // never sees a spin loop: disabled, PAUSEs spaced wider than ple_gap, or Intel at CPL 3).
  sim::Tick ple_window(const Vcpu& v) const;
  // A pause-loop exit of `v`: grow its window, then kvm_vcpu_on_spin. True when it yielded.
  bool pause_loop_exit(Vcpu& v);
  // What kvm_vcpu_on_spin's scan reads of vCPU `v`.
  bool preempted(int v) const { return per_vcpu_[static_cast<std::size_t>(v)].preempted; }
  bool preempted_in_kernel(int v) const {
    return per_vcpu_[static_cast<std::size_t>(v)].preempted_in_kernel;
  }

  // Halt-polling (kvm_vcpu_halt). The window `v` polls for in the halt starting now: its
  // halt_poll_ns, first clamped to vm.halt_poll_ns.
  sim::Tick halt_poll_window(const Vcpu& v);
  // A halt of `v` ended `halt` after its poll began (0 when woken during the HLT exit); `polled`:
  // the halt had a window; `waited`: the thread went to sleep. Counts the poll's success (never
  // slept) or failure, then adapts the window: a halt within the window keeps it, one longer
  // than vm.halt_poll_ns shrinks it, one in between grows it.
  void halt_ended(const Vcpu& v, sim::Tick halt, bool polled, bool waited);
  sim::Tick halt_poll_ns(int vcpu) const {
    return per_vcpu_[static_cast<std::size_t>(vcpu)].halt_poll;
  }
  // A kick or IPI sent to a halted vCPU got it running guest code `latency` later.
  void halt_wakeup(sim::Tick latency) { metrics_.halt_wakeup_ns.add(latency / sim::kNanosecond); }

  const HypervisorMetrics& metrics() const { return metrics_; }
  void collect_metrics(sim::Metrics& out) const { metrics_.collect(out); }

 private:
  struct PerVcpu {
    std::int64_t window = 0;  // cycles
    bool in_spin_loop = false;
    bool dy_eligible = false;
    sim::Tick halt_poll = 0;  // vcpu->halt_poll_ns: starts at 0, adapts in halt_ended()
    bool preempted = false;   // vcpu->preempted: scheduled out while runnable
    bool preempted_in_kernel = false;  // vcpu->arch.preempted_in_kernel (CPL 0 at that time)
  };
  bool eligible_for_directed_yield(int v);
  bool on_spin(Vcpu& me, bool yield_to_kernel_mode);
  sim::Tick cycles(std::int64_t n) const;

  Machine& machine_;
  const VmParams& vm_;
  Vendor vendor_;
  bool pv_unhalt_;
  std::vector<Word*> preempted_;
  std::vector<std::function<void(int)>> preempt_observers_;
  std::vector<PerVcpu> per_vcpu_;
  int last_boosted_ = 0;  // kvm->last_boosted_vcpu starts at 0
  HypervisorMetrics metrics_;
};

}  // namespace vcpusim::cpu
