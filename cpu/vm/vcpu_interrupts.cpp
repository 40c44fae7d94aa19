// A vCPU's interrupts: what makes one pending (raise, an IPI's note, a kick), and taking them at an
// operation boundary, nested on the current task's stack (cpu/vm/vcpu.hpp).
#include <algorithm>
#include <string>

#include "cpu/machine.hpp"
#include "cpu/vm/apic.hpp"
#include "cpu/vm/guest_api.hpp"
#include "cpu/vm/hypervisor.hpp"
#include "cpu/vm/vcpu.hpp"
#include "sim/checks/deadline_check.hpp"
#include "sim/error.hpp"

namespace vcpusim::cpu {
namespace {
unsigned bit(Vector v) {
  return 1u << static_cast<int>(v);
}
const char* const kVectorNames[kVectors] = {"irq.timer", "irq.ipi", "nmi", "irq.resched"};
}  // namespace

bool Vcpu::deliverable() const {
  if ((pending_ & bit(Vector::kNmi)) && !in_nmi_) return true;
  return (pending_ & ~bit(Vector::kNmi)) && irqs_enabled_;
}

void Vcpu::note_sent(Vector v, TargetState st) {
  // An interrupt the halt cannot take (irqs off) does not start a wake-up.
  if (st == TargetState::kHalted && (v == Vector::kNmi ? !in_nmi_ : irqs_enabled_))
    note_wake_sent();
  if (sent_pending_ & bit(v)) return;  // coalesced with an earlier send: keep the first
  sent_pending_ |= bit(v);
  sent_at_[static_cast<int>(v)] = machine_.kernel().now();
  sent_state_[static_cast<int>(v)] = st;
}

void Vcpu::exit_before(Vector v) {
  exit_pending_ |= bit(v);
}

void Vcpu::raise(Vector v) {
  if (v == Vector::kNmi && (pending_ & bit(v))) ++nmis_dropped_;
  check_not_ahead("an interrupt");
  pending_ |= bit(v);
  sim::Kernel& k = machine_.kernel();
  k.recorder().record(k.now(), component(), "raise", static_cast<int>(v));
  machine_.scheduler().make_work_barrier(*this);  // the handler runs where the work completes
  if (!deliverable()) return;
  if (guest_state_ == GuestState::kHalted)
    end_halt(WakeReason::kInterrupt);
  else if (guest_state_ == GuestState::kSpinning)
    end_spin(WakeReason::kInterrupt, 0);
}

// kvm_vcpu_kick: a halted vCPU whose thread still polls (or is still exiting) sees
// pv_unhalted at once; a sleeping one is woken through the host scheduler first
// (costs.halt_wakeup), as an IPI to it is.
void Vcpu::kick(Vcpu& from) {
  check_not_ahead("a kick");
  sim::Kernel& k = machine_.kernel();
  k.recorder().record(k.now(), component(), "kick", from.id());
  pv_unhalted_ = true;
  if (guest_state_ != GuestState::kHalted) return;
  note_wake_sent();
  waker_pcpu_ = from.pcpu();
  const Tick delay = halt_polling() ? 0
                                    : machine_.latency(machine_.costs().halt_wakeup.value,
                                                       machine_.costs().halt_wakeup_jitter.value,
                                                       irq_component_, "wakeup.latency");
  if (delay == 0) {
    end_halt(WakeReason::kKick);
    return;
  }
  if (kick_wake_.valid()) return;
  kick_wake_ = k.at(k.now() + delay, sim::Phase::kInterrupt, irq_component_, [this] {
    kick_wake_ = sim::EventKey{};
    if (guest_state_ == GuestState::kHalted) end_halt(WakeReason::kKick);
  });
}

void Vcpu::note_wake_sent() {
  if (guest_state_ == GuestState::kHalted && wake_sent_ < 0) wake_sent_ = machine_.kernel().now();
}

void Vcpu::boundary() {
  for (;;) {
    if ((pending_ & bit(Vector::kNmi)) && !in_nmi_) {
      take_interrupt(Vector::kNmi);
      continue;
    }
    const unsigned maskable = pending_ & ~bit(Vector::kNmi);
    if (!maskable || !irqs_enabled_) return;
    for (int v = 0; v < kVectors; ++v)
      if (maskable & (1u << v)) {
        take_interrupt(static_cast<Vector>(v));
        break;
      }
  }
}

void Vcpu::take_interrupt(Vector v) {
  sim::Kernel& k = machine_.kernel();
  ++handler_depth_;  // the delivery and the handler are not the task's declared code
  const int n = static_cast<int>(v);
  pending_ &= ~bit(v);
  ++interrupts_taken_;
  const bool saved_irqs = irqs_enabled_;
  const bool saved_nmi = in_nmi_;
  WatchSet* saved_recording = recording_;
  recording_ = nullptr;  // the handler's reads are not the interrupted condition's
  irqs_enabled_ = false;
  const Tick start = k.now();
  int deadline = 0;
  if (v == Vector::kNmi) {
    in_nmi_ = true;
    ++nmis_taken_;
    if (sim::DeadlineCheck* c = machine_.nmi_check()) deadline = c->begin(index_);
  }
  k.recorder().record(k.now(), component(), kVectorNames[n], 1);
  if (exit_pending_ & bit(v)) {  // injected through an exit: the target exits and re-enters
    exit_pending_ &= ~bit(v);
    note_exit(VmExitReason::kExternalInterrupt);
    consume(machine_.costs().vm_exit.value + machine_.costs().vm_entry.value);
    k.recorder().note(k.now(), component(), "kvm.entry");  // stamped when the entry completes
  }
  // The delivery enters the kernel (CPL 0) from whatever mode it interrupted; the return
  // (iret) goes back there.
  const GuestMode saved_mode = mode_;
  set_mode(GuestMode::kKernel);
  consume(machine_.costs().irq_entry.value);
  if (sent_pending_ & bit(v)) {
    sent_pending_ &= ~bit(v);
    machine_.apic().handler_started(v, sent_state_[n], sent_at_[n]);
  }
  if (handlers_[n]) handlers_[n](*guest_);
  consume(machine_.costs().irq_exit.value);
  k.recorder().record(k.now(), component(), kVectorNames[n], 0);
  if (v == Vector::kNmi) {
    machine_.nmi_handled(k.now() - start);
    if (sim::DeadlineCheck* c = machine_.nmi_check()) c->end(deadline);
  }
  in_nmi_ = saved_nmi;
  irqs_enabled_ = saved_irqs;
  recording_ = saved_recording;
  set_mode(saved_mode);
  --handler_depth_;
}

}  // namespace vcpusim::cpu
