#include "cpu/vcpu.hpp"

#include "cpu/guest_api.hpp"
#include "cpu/machine.hpp"

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
      machine_(machine),
      guest_(new GuestCpu(*this, machine)) {}

Vcpu::~Vcpu() {
  delete guest_;
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
    delay = machine_.decisions().choose(machine_.kernel().now(), 2000 + id(), "timer.delivery",
                                        jitter + 1);
  machine_.kernel().at(nominal + delay, sim::Phase::kInterrupt, 2000 + id(),
                       [this, nominal, period] {
                         raise(Vector::kTimer);
                         arm_timer(nominal + period, period);
                       });
}

bool Vcpu::deliverable() const {
  if ((pending_ & bit(Vector::kNmi)) && !in_nmi_) return true;
  return (pending_ & ~bit(Vector::kNmi)) && irqs_enabled_;
}

void Vcpu::raise(Vector v) {
  pending_ |= bit(v);
  sim::Kernel& k = machine_.kernel();
  k.recorder().record(k.now(), 1000 + id(), "raise", static_cast<int>(v));
  if (!deliverable()) return;
  if (guest_state_ == GuestState::kHalted) {
    halted_time_ += k.now() - halt_start_;
    guest_state_ = GuestState::kRunning;
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
      s.sleep(*this);
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
  if (v == Vector::kNmi) in_nmi_ = true;
  k.recorder().record(k.now(), 1000 + id(), kVectorNames[n], 1);
  consume(machine_.costs().irq_entry.value);
  if (handlers_[n]) handlers_[n](*guest_);
  consume(machine_.costs().irq_exit.value);
  k.recorder().record(k.now(), 1000 + id(), kVectorNames[n], 0);
  in_nmi_ = saved_nmi;
  irqs_enabled_ = saved_irqs;
}

}  // namespace vcpusim::cpu
