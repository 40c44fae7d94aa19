#include "cpu/vm/hypervisor.hpp"

#include <algorithm>

#include "cpu/machine.hpp"

namespace vcpusim::cpu {

Hypervisor::Hypervisor(Machine& machine, const VmParams& vm, Vendor vendor)
    : machine_(machine), vm_(vm), vendor_(vendor), pv_unhalt_(vm.pv_unhalt.value) {}

void Hypervisor::create_steal_time(int vcpus) {
  for (int v = 0; v < vcpus; ++v)
    preempted_.push_back(
        &machine_.memory().word("steal_time.vcpu" + std::to_string(v) + ".preempted"));
  per_vcpu_.assign(static_cast<std::size_t>(vcpus),
                   PerVcpu{vm_.ple_window.value, false, false, 0, false, false});
}

sim::Tick Hypervisor::cycles(std::int64_t n) const {
  return static_cast<sim::Tick>(static_cast<__int128>(n) * sim::kSecond / machine_.tsc_frequency());
}

// kvm_sched_out sets vcpu->preempted and ->ready for a thread scheduled out while still
// runnable; kvm_arch_vcpu_put (arch/x86/kvm/x86.c, Linux 6.5) then records whether the guest was
// at CPL 0 at that moment (vcpu->arch.preempted_in_kernel, from kvm_x86_get_cpl; a protected
// guest's CPL is unknown, not modelled) and marks the steal-time page. The guest's mode is its
// state now: a vCPU preempted while a workload computes in user mode is not in kernel.
void Hypervisor::scheduled_out(Vcpu& v, bool runnable) {
  if (!runnable) return;
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  p.preempted = true;
  p.preempted_in_kernel = v.mode() == GuestMode::kKernel;
  machine_.memory().host_write(machine_.kernel().now(), v.pcpu(), preempted_word(v.index()), 1);
  for (const auto& f : preempt_observers_) f(v.index());
}

// record_steal_time on entry clears the flag; vmx_sched_in shrinks the pause-loop window.
// kvm_sched_in clears vcpu->preempted and ->ready.
void Hypervisor::scheduled_in(Vcpu& v) {
  Word& w = preempted_word(v.index());
  if (MemoryInspector::value(w) != 0)
    machine_.memory().host_write(machine_.kernel().now(), v.pcpu(), w, 0);
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  p.preempted = false;
  const std::int64_t base = vm_.ple_window.value, shrink = vm_.ple_window_shrink.value;
  if (shrink < 1)
    p.window = base;
  else
    p.window = std::max(base, shrink < base ? p.window / shrink : p.window - shrink);
}

void Hypervisor::kick_cpu(Vcpu& from, int target) {
  ++metrics_.kicks;
  machine_.vcpu(target).kick(from);
}

// kvm_sched_yield: yield to the target vCPU's thread if it is runnable but not running.
void Hypervisor::sched_yield(Vcpu& from, int target) {
  Vcpu& t = machine_.vcpu(target);
  if (t.state() != ThreadState::kRunnable) return;
  ++metrics_.sched_yields;
  machine_.scheduler().yield_to(from, t);
}

// What the CPU does (vmx.c and svm.c only program it). Intel VMX (SDM vol. 3, 25.1.3): a PAUSE
// within ple_gap TSC cycles of the previous one continues the loop, and the loop exits once it
// has lasted ple_window cycles; only at CPL 0. AMD SVM: every PAUSE decrements the pause filter
// count (ple_window), reset when the gap since the last PAUSE exceeds pause_filter_thresh
// (ple_gap); the exit comes at count zero, at any CPL.
sim::Tick Hypervisor::ple_window(const Vcpu& v) const {
  if (vm_.ple_gap.value == 0) return sim::kForever;
  const Tick spacing = machine_.costs().pause_iteration.value;
  const auto spacing_cycles = static_cast<std::int64_t>(
      static_cast<__int128>(spacing) * machine_.tsc_frequency() / sim::kSecond);
  if (spacing_cycles > vm_.ple_gap.value) return sim::kForever;
  const std::int64_t window = per_vcpu_[static_cast<std::size_t>(v.index())].window;
  if (vendor_ == Vendor::kAmd) return static_cast<Tick>(window) * spacing;
  if (v.mode() == GuestMode::kUser) return sim::kForever;
  return cycles(window);
}

// handle_pause (vmx.c: the exit is at CPL 0, so it asks for in-kernel candidates) or
// pause_interception (svm.c: in-kernel candidates only if the spinner is at CPL 0):
// grow_ple_window, then kvm_vcpu_on_spin.
bool Hypervisor::pause_loop_exit(Vcpu& v) {
  ++metrics_.ple_exits;
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  const std::int64_t base = vm_.ple_window.value, grow = vm_.ple_window_grow.value;
  if (grow < 1)
    p.window = base;
  else
    p.window = std::min(vm_.ple_window_max.value, grow < base ? p.window * grow : p.window + grow);
  return on_spin(v, vendor_ == Vendor::kIntel || v.mode() == GuestMode::kKernel);
}

// kvm_vcpu_eligible_for_directed_yield: a vCPU that is itself in a spin loop is a candidate
// only every other time it is considered.
bool Hypervisor::eligible_for_directed_yield(int v) {
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v)];
  const bool eligible = !p.in_spin_loop || p.dy_eligible;
  if (p.in_spin_loop) p.dy_eligible = !p.dy_eligible;
  return eligible;
}

// virt/kvm/kvm_main.c kvm_vcpu_on_spin (Linux 6.5): the vCPUs after last_boosted_vcpu, then
// those up to it. A candidate is `ready` (scheduled out while runnable, or woken and not yet
// running: a kick or IPI in flight), not itself, not blocked in HLT unless it has something to
// run (vcpu_dy_runnable: pv_unhalted or a pending interrupt), and, when the spinner asks for
// kernel-mode candidates, not preempted in user mode (unless a posted interrupt waits:
// kvm_arch_dy_has_pending_interrupt). kvm_vcpu_yield_to's result: > 0 ends the scan, < 0
// (-ESRCH) costs one of three tries.
bool Hypervisor::on_spin(Vcpu& me, bool yield_to_kernel_mode) {
  const int n = machine_.vcpu_count();
  if (n < 2) return false;
  PerVcpu& mine = per_vcpu_[static_cast<std::size_t>(me.index())];
  mine.in_spin_loop = true;
  int tries = 3;
  bool yielded_any = false;
  HostScheduler& sched = machine_.scheduler();
  for (int i = 0; i < n && tries > 0; ++i) {
    const int idx = (last_boosted_ + 1 + i) % n;
    Vcpu& c = machine_.vcpu(idx);
    const bool waking = c.wake_in_flight();
    if (c.state() != ThreadState::kRunnable && !waking) continue;  // !vcpu->ready
    if (idx == me.index()) continue;
    if (c.guest_state() == GuestState::kHalted && !c.pv_unhalted() && !c.interrupt_pending())
      continue;
    const PerVcpu& pc = per_vcpu_[static_cast<std::size_t>(idx)];
    if (pc.preempted && yield_to_kernel_mode &&
        !(machine_.posted_interrupts() && c.interrupt_pending()) && !pc.preempted_in_kernel) {
      ++metrics_.yield_skipped_user;
      continue;
    }
    if (!eligible_for_directed_yield(idx)) continue;
    int yielded;
    if (waking) {
      // The woken thread sits alone on the idle run queue it was placed on: -ESRCH if the
      // spinner is alone too, else the buddy is set there and the spinner yields its pCPU.
      if (sched.nr_running(me.pcpu()) == 1) {
        yielded = HostScheduler::kEsrch;
      } else {
        sched.yield(me);
        yielded = HostScheduler::kYielded;
      }
    } else {
      yielded = sched.yield_to(me, c);
    }
    if (yielded > 0) {
      ++metrics_.directed_yields;
      last_boosted_ = idx;
      yielded_any = true;
      break;
    }
    if (yielded < 0) {
      ++metrics_.failed_yields;
      --tries;
    }
  }
  mine.in_spin_loop = false;
  mine.dy_eligible = false;
  return yielded_any;
}

sim::Tick Hypervisor::halt_poll_window(const Vcpu& v) {
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  p.halt_poll = std::min(p.halt_poll, vm_.halt_poll_ns.value);
  return p.halt_poll;
}

// kvm_vcpu_halt's accounting after the wake-up, with grow_halt_poll_ns / shrink_halt_poll_ns.
void Hypervisor::halt_ended(const Vcpu& v, sim::Tick halt, bool polled, bool waited) {
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  if (polled) ++(waited ? metrics_.halt_poll_fail : metrics_.halt_poll_success);
  const sim::Tick max = vm_.halt_poll_ns.value;
  if (max == 0) {
    p.halt_poll = 0;
  } else if (halt <= p.halt_poll) {
    // the wake-up came within the window: keep it
  } else if (p.halt_poll > 0 && halt > max) {  // a long block: polling would not have helped
    ++metrics_.halt_poll_shrink;
    const std::int64_t shrink = vm_.halt_poll_ns_shrink.value;
    p.halt_poll = shrink == 0 ? 0 : p.halt_poll / shrink;
    if (p.halt_poll < vm_.halt_poll_ns_grow_start.value) p.halt_poll = 0;
  } else if (p.halt_poll < max && halt < max) {  // a longer window would have caught it
    const std::int64_t grow = vm_.halt_poll_ns_grow.value;
    if (grow == 0) return;
    ++metrics_.halt_poll_grow;
    p.halt_poll = std::max(p.halt_poll * grow, vm_.halt_poll_ns_grow_start.value);
  }
}

}  // namespace vcpusim::cpu
