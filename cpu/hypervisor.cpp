#include "cpu/hypervisor.hpp"

#include <algorithm>

#include "cpu/machine.hpp"

namespace vcpusim::cpu {

Hypervisor::Hypervisor(Machine& machine, const VmParams& vm)
    : machine_(machine), vm_(vm), pv_unhalt_(vm.pv_unhalt.value) {}

void Hypervisor::create_steal_time(int vcpus) {
  for (int v = 0; v < vcpus; ++v)
    preempted_.push_back(
        &machine_.memory().word("steal_time.vcpu" + std::to_string(v) + ".preempted"));
  per_vcpu_.assign(static_cast<std::size_t>(vcpus), PerVcpu{vm_.ple_window.value, false, false, 0});
}

sim::Tick Hypervisor::cycles(std::int64_t n) const {
  return static_cast<sim::Tick>(static_cast<__int128>(n) * sim::kSecond / machine_.tsc_frequency());
}

// kvm_arch_vcpu_put: a vCPU thread scheduled out while still runnable is marked preempted.
void Hypervisor::scheduled_out(Vcpu& v, bool runnable) {
  if (!runnable) return;
  machine_.memory().host_write(machine_.kernel().now(), v.pcpu(), preempted_word(v.index()), 1);
  for (const auto& f : preempt_observers_) f(v.index());
}

// record_steal_time on entry clears the flag; vmx_sched_in shrinks the pause-loop window.
void Hypervisor::scheduled_in(Vcpu& v) {
  Word& w = preempted_word(v.index());
  if (MemoryInspector::value(w) != 0)
    machine_.memory().host_write(machine_.kernel().now(), v.pcpu(), w, 0);
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  const std::int64_t base = vm_.ple_window.value, shrink = vm_.ple_window_shrink.value;
  if (shrink < 1)
    p.window = base;
  else
    p.window = std::max(base, shrink < base ? p.window / shrink : p.window - shrink);
}

void Hypervisor::kick_cpu(Vcpu& from, int target) {
  ++kicks_;
  machine_.vcpu(target).kick(from);
}

// kvm_sched_yield: yield to the target vCPU's thread if it is runnable but not running.
void Hypervisor::sched_yield(Vcpu& from, int target) {
  Vcpu& t = machine_.vcpu(target);
  if (t.state() != ThreadState::kRunnable) return;
  ++sched_yields_;
  machine_.scheduler().yield_to(from, t);
}

sim::Tick Hypervisor::ple_window(const Vcpu& v) const {
  if (vm_.ple_gap.value == 0) return sim::kForever;
  return cycles(per_vcpu_[static_cast<std::size_t>(v.index())].window);
}

// handle_pause(): grow_ple_window, then kvm_vcpu_on_spin.
void Hypervisor::pause_loop_exit(Vcpu& v) {
  ++ple_exits_;
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  const std::int64_t base = vm_.ple_window.value, grow = vm_.ple_window_grow.value;
  if (grow < 1)
    p.window = base;
  else
    p.window = std::min(vm_.ple_window_max.value, grow < base ? p.window * grow : p.window + grow);
  on_spin(v);
}

// A vCPU that is itself in a spin loop is a candidate only every other time it is considered.
bool Hypervisor::eligible_for_directed_yield(int v) {
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v)];
  const bool eligible = !p.in_spin_loop || p.dy_eligible;
  if (p.in_spin_loop) p.dy_eligible = !p.dy_eligible;
  return eligible;
}

// kvm_vcpu_on_spin: round-robin from the vCPU after the last boosted one; a candidate is runnable
// but not running ("ready"), not halted unless an interrupt is pending; three failed yields end
// the search.
void Hypervisor::on_spin(Vcpu& me) {
  const int n = machine_.vcpu_count();
  if (n < 2) return;
  PerVcpu& mine = per_vcpu_[static_cast<std::size_t>(me.index())];
  mine.in_spin_loop = true;
  int tries = 3;
  const int start = last_boosted_ + 1;
  for (int i = 0; i < n; ++i) {
    const int idx = (start + i) % n;
    if (idx == me.index()) continue;
    Vcpu& c = machine_.vcpu(idx);
    if (c.state() != ThreadState::kRunnable) continue;
    if (c.guest_state() == GuestState::kHalted && !c.interrupt_pending()) continue;
    if (!eligible_for_directed_yield(idx)) continue;
    const int yielded = machine_.scheduler().yield_to(me, c);
    if (yielded > 0) {
      ++directed_yields_;
      last_boosted_ = idx;
      break;
    }
    if (yielded < 0) {
      ++failed_yields_;
      if (--tries == 0) break;
    }
  }
  mine.in_spin_loop = false;
  mine.dy_eligible = false;
}

sim::Tick Hypervisor::halt_poll_window(const Vcpu& v) {
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  p.halt_poll = std::min(p.halt_poll, vm_.halt_poll_ns.value);
  return p.halt_poll;
}

// kvm_vcpu_halt's accounting after the wake-up, with grow_halt_poll_ns / shrink_halt_poll_ns.
void Hypervisor::halt_ended(const Vcpu& v, sim::Tick halt, bool polled, bool waited) {
  PerVcpu& p = per_vcpu_[static_cast<std::size_t>(v.index())];
  if (polled) ++(waited ? halt_poll_fail_ : halt_poll_success_);
  const sim::Tick max = vm_.halt_poll_ns.value;
  if (max == 0) {
    p.halt_poll = 0;
  } else if (halt <= p.halt_poll) {
    // the wake-up came within the window: keep it
  } else if (p.halt_poll > 0 && halt > max) {  // a long block: polling would not have helped
    ++halt_poll_shrink_;
    const std::int64_t shrink = vm_.halt_poll_ns_shrink.value;
    p.halt_poll = shrink == 0 ? 0 : p.halt_poll / shrink;
    if (p.halt_poll < vm_.halt_poll_ns_grow_start.value) p.halt_poll = 0;
  } else if (p.halt_poll < max && halt < max) {  // a longer window would have caught it
    const std::int64_t grow = vm_.halt_poll_ns_grow.value;
    if (grow == 0) return;
    ++halt_poll_grow_;
    p.halt_poll = std::max(p.halt_poll * grow, vm_.halt_poll_ns_grow_start.value);
  }
}

void Hypervisor::collect_metrics(sim::Metrics& out) const {
  out.set("kvm.kicks", kicks_);
  out.set("kvm.ple_exits", ple_exits_);
  out.set("kvm.directed_yields", directed_yields_);
  out.set("kvm.failed_yields", failed_yields_);
  out.set("kvm.sched_yields", sched_yields_);
  out.set("kvm.halt_poll_success", halt_poll_success_);
  out.set("kvm.halt_poll_fail", halt_poll_fail_);
  out.set("kvm.halt_poll_grow", halt_poll_grow_);
  out.set("kvm.halt_poll_shrink", halt_poll_shrink_);
  if (halt_wakeup_ns_.count() > 0) out.set_summary("kvm.halt_wakeup_ns", halt_wakeup_ns_);
}

}  // namespace vcpusim::cpu
