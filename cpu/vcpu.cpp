#include "cpu/vcpu.hpp"

#include "cpu/apic.hpp"
#include "cpu/guest_api.hpp"
#include "cpu/machine.hpp"
#include "sim/deadline_check.hpp"

namespace vcpusim::cpu {
namespace {
unsigned bit(Vector v) {
  return 1u << static_cast<int>(v);
}
const char* const kVectorNames[kVectors] = {"irq.timer", "irq.ipi", "nmi"};
}  // namespace

Vcpu::Vcpu(int index, std::vector<int> affinity, int nice, Machine& machine)
    : HostThread(index, Kind::kVcpu, "vcpu" + std::to_string(index), std::move(affinity), nice),
      index_(index),
      irq_component_(machine.kernel().components().add("vcpu" + std::to_string(index) + ".irq",
                                                       "vcpu.irq", index)),
      machine_(machine),
      guest_(new GuestCpu(*this, machine)) {}

Vcpu::~Vcpu() {
  delete guest_;
}

Tick Vcpu::halted_time() const {
  if (guest_state_ != GuestState::kHalted) return halted_time_;
  return halted_time_ + (machine_.kernel().now() - halt_start_);
}

void Vcpu::set_main(std::function<void(GuestCpu&)> main) {
  main_ = std::move(main);
}

void Vcpu::set_handler(Vector v, std::function<void(GuestCpu&)> handler) {
  handlers_[static_cast<int>(v)] = std::move(handler);
}

void Vcpu::start() {
  coroutine_ = machine_.kernel().spawn(name(), [this] {
    if (main_) main_(*guest_);
    request_ = Request::kExit;
  });
  machine_.scheduler().wake(*this);
  machine_.scheduler().set_work(*this, machine_.costs().vm_entry.value);
}

void Vcpu::start_periodic_timer(Tick period) {
  arm_timer(period, period);
}

void Vcpu::arm_timer(Tick nominal, Tick period) {
  sim::Tick delay = 0;
  const Tick jitter = machine_.timer_jitter();
  if (jitter > 0)
    delay = machine_.decisions().choose(machine_.kernel().now(), irq_component_, "timer.delivery",
                                        jitter + 1);
  machine_.kernel().at(nominal + delay, sim::Phase::kInterrupt, irq_component_,
                       [this, nominal, period] {
                         raise(Vector::kTimer);
                         arm_timer(nominal + period, period);
                       });
}

bool Vcpu::deliverable() const {
  if ((pending_ & bit(Vector::kNmi)) && !in_nmi_) return true;
  return (pending_ & ~bit(Vector::kNmi)) && irqs_enabled_;
}

void Vcpu::note_sent(Vector v, TargetState st) {
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
  pending_ |= bit(v);
  sim::Kernel& k = machine_.kernel();
  k.recorder().record(k.now(), component(), "raise", static_cast<int>(v));
  if (!deliverable()) return;
  if (guest_state_ == GuestState::kHalted) {
    polling_ = false;
    halted_time_ += k.now() - halt_start_;
    guest_state_ = GuestState::kRunning;
    k.recorder().note(k.now(), component(), "halt.end");
    machine_.scheduler().wake(*this);
    machine_.scheduler().set_work(*this, machine_.costs().vm_entry.value);
  } else if (guest_state_ == GuestState::kSpinning) {
    break_spin();
  }
}

void Vcpu::watched_write() {
  if (guest_state_ == GuestState::kSpinning) break_spin();
}

void Vcpu::break_spin() {
  guest_state_ = GuestState::kRunning;  // a recheck is on its way; later writes change nothing
  const CostParams& c = machine_.costs();
  machine_.scheduler().set_work(*this, c.spin_recheck.value + c.cacheline_same_socket.value);
}

void Vcpu::on_work_done() {
  if (polling_) {  // halt-polling ran out without an interrupt: the host thread sleeps
    polling_ = false;
    machine_.scheduler().sleep(*this);
    return;
  }
  request_ = Request::kNone;
  machine_.kernel().resume(coroutine_);
  apply_request();
}

void Vcpu::apply_request() {
  HostScheduler& s = machine_.scheduler();
  switch (request_) {
    case Request::kWork:
      s.set_work(*this, request_cost_);
      break;
    case Request::kSpin:
      guest_state_ = GuestState::kSpinning;
      s.set_work(*this, sim::kForever);
      break;
    case Request::kHalt:
      guest_state_ = GuestState::kHalted;
      halt_start_ = machine_.kernel().now();
      machine_.kernel().recorder().note(halt_start_, component(), "halt.begin");
      if (machine_.halt_poll() > 0) {
        polling_ = true;
        s.set_work(*this, machine_.halt_poll());
      } else {
        s.sleep(*this);
      }
      break;
    case Request::kExit:
    case Request::kNone:
      guest_state_ = GuestState::kExited;
      s.sleep(*this);
      break;
  }
}

void Vcpu::on_dispatch() {
  preempted_ = false;
}

void Vcpu::on_deschedule() {
  preempted_ = true;
}

void Vcpu::consume(Tick cost) {
  // Running and nothing else due before this operation completes: the event path would resume
  // us right away, so skip the context switch (the scheduler accounts the time on its next look).
  if (state() == ThreadState::kRunning &&
      machine_.kernel().try_advance(machine_.kernel().now() + cost))
    return;
  request_ = Request::kWork;
  request_cost_ = cost;
  machine_.kernel().yield();
}

void Vcpu::spin_wait(std::initializer_list<Word*> watched) {
  Memory& mem = machine_.memory();
  for (Word* w : watched) mem.watch(*w, *this);
  request_ = Request::kSpin;
  machine_.kernel().yield();
  for (Word* w : watched) mem.unwatch(*w, *this);
  guest_state_ = GuestState::kRunning;
  boundary();
}

void Vcpu::halt() {
  if (!deliverable()) {
    request_ = Request::kHalt;
    machine_.kernel().yield();
  }
  boundary();
}

void Vcpu::boundary() {
  for (;;) {
    if ((pending_ & bit(Vector::kNmi)) && !in_nmi_) {
      take_interrupt(Vector::kNmi);
    } else if ((pending_ & ~bit(Vector::kNmi)) && irqs_enabled_) {
      take_interrupt((pending_ & bit(Vector::kTimer)) ? Vector::kTimer : Vector::kIpi);
    } else {
      return;
    }
  }
}

void Vcpu::take_interrupt(Vector v) {
  sim::Kernel& k = machine_.kernel();
  const int n = static_cast<int>(v);
  pending_ &= ~bit(v);
  ++interrupts_taken_;
  const bool saved_irqs = irqs_enabled_;
  const bool saved_nmi = in_nmi_;
  irqs_enabled_ = false;
  const Tick start = k.now();
  int deadline = 0;
  if (v == Vector::kNmi) {
    in_nmi_ = true;
    ++nmis_taken_;
    if (sim::DeadlineCheck* c = machine_.nmi_check()) deadline = c->begin(index_);
  }
  k.recorder().record(k.now(), component(), kVectorNames[n], 1);
  if (exit_pending_ & bit(v)) {
    exit_pending_ &= ~bit(v);
    consume(machine_.costs().vm_entry.value);
  }
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
}

}  // namespace vcpusim::cpu
