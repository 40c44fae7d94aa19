#include "cpu/vm/apic.hpp"

#include "cpu/machine.hpp"

namespace vcpusim::cpu {
const char* target_state_name(TargetState s) {
  switch (s) {
    case TargetState::kRunning:
      return "running";
    case TargetState::kHalted:
      return "halted";
    default:
      return "preempted";
  }
}

void Apic::send(Vcpu& from, const std::vector<int>& targets, Vector v) {
  const Tick handling = machine_.costs().ipi_send.value;
  sim::Kernel& k = machine_.kernel();
  if (machine_.pv_send_ipi()) {  // KVM_HC_SEND_IPI: one exit, the host walks the mask
    ++metrics_.sender_exits;
    from.vm_exit(handling, [&] {
      for (int t : targets) deliver(from, machine_.vcpu(t), v);
    }, VmExitReason::kVmcall);
  } else {  // one ICR write, so one exit, per destination
    for (int t : targets) {
      ++metrics_.sender_exits;
      from.vm_exit(handling, [&, t] { deliver(from, machine_.vcpu(t), v); },
                   VmExitReason::kMsrWrite);  // the x2APIC ICR write
    }
  }
  k.recorder().record(k.now(), from.component(), "ipi.sent", static_cast<int>(v),
                      static_cast<std::int64_t>(targets.size()));
}

void Apic::deliver(Vcpu& from, Vcpu& to, Vector v) {
  sim::Kernel& k = machine_.kernel();
  k.recorder().note(k.now(), from.component(), "ipi.deliver", static_cast<int>(v), to.id());
  TargetState st = TargetState::kRunning;
  if (to.guest_state() == GuestState::kHalted)
    st = TargetState::kHalted;
  else if (to.state() != ThreadState::kRunning)
    st = TargetState::kPreempted;
  ++metrics_.sent;
  ++by_state_[static_cast<int>(st)];
  to.note_sent(v, st);
  Tick delay = 0;
  if (st == TargetState::kRunning && machine_.posted_interrupts())
    delay = machine_.costs().ipi_posted.value;
  else if (st == TargetState::kRunning)
    to.exit_before(v);  // the target is kicked out of the guest and re-enters to inject
  else if (st == TargetState::kHalted && !to.halt_polling())
    delay = machine_.latency(machine_.costs().halt_wakeup.value,
                             machine_.costs().halt_wakeup_jitter.value, to.irq_component(),
                             "wakeup.latency");
  // Host-side delivery variation (the sender's exit handling, the target's posting): a decision.
  delay = machine_.latency(delay, machine_.costs().ipi_jitter.value, to.irq_component(),
                           "ipi.delivery");
  if (delay == 0) {
    to.raise(v);
    return;
  }
  k.at(k.now() + delay, sim::Phase::kInterrupt, to.irq_component(), [&to, v] { to.raise(v); });
}

void Apic::handler_started(Vector v, TargetState at_send, Tick sent) {
  const Tick latency = (machine_.kernel().now() - sent) / sim::kNanosecond;
  if (v == Vector::kNmi)
    metrics_.nmi_latency_ns.add(latency);
  else
    latency_ns_[static_cast<int>(at_send)].add(latency);
}

void Apic::collect_metrics(sim::Metrics& out) const {
  if (metrics_.sent.value() == 0) return;
  metrics_.collect(out);
  for (int s = 0; s < kTargetStates; ++s) {
    const std::string state = target_state_name(static_cast<TargetState>(s));
    out.set(metrics_.to_state, {state}, by_state_[s]);
    out.set_summary(metrics_.latency_ns, {state}, latency_ns_[s]);
  }
}

}  // namespace vcpusim::cpu
