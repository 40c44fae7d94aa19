#include "cpu/guest_api.hpp"

#include "cpu/machine.hpp"

namespace vcpusim::cpu {

Tick GuestCpu::now() const {
  return machine_.kernel().now();
}

Tick GuestCpu::access(Word& w, bool write) {
  return machine_.memory().access(vcpu_.pcpu(), w, write);
}

std::uint64_t GuestCpu::load(Word& w) {
  op(machine_.costs().load.value + access(w, false));
  const std::uint64_t v = w.value;
  vcpu_.boundary();
  return v;
}

void GuestCpu::store(Word& w, std::uint64_t v) {
  op(machine_.costs().store.value + access(w, true));
  w.value = v;
  machine_.memory().notify(w);
  vcpu_.boundary();
}

std::uint64_t GuestCpu::cmpxchg(Word& w, std::uint64_t expected, std::uint64_t desired) {
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = w.value;
  if (old == expected) {
    w.value = desired;
    machine_.memory().notify(w);
  }
  vcpu_.boundary();
  return old;
}

std::uint64_t GuestCpu::xchg(Word& w, std::uint64_t v) {
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = w.value;
  w.value = v;
  machine_.memory().notify(w);
  vcpu_.boundary();
  return old;
}

std::uint64_t GuestCpu::fetch_add(Word& w, std::uint64_t delta) {
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = w.value;
  w.value = old + delta;
  machine_.memory().notify(w);
  vcpu_.boundary();
  return old;
}

void GuestCpu::smp_mb() {
  op(machine_.costs().barrier.value);
  vcpu_.boundary();
}

void GuestCpu::compute(Tick cost) {
  op(cost);
  vcpu_.boundary();
}

std::uint64_t GuestCpu::rdtsc() {
  op(machine_.costs().rdtsc.value);
  const std::uint64_t v = machine_.tsc_at(now());
  vcpu_.boundary();
  return v;
}

bool GuestCpu::local_irq_save() {
  const bool was = vcpu_.irqs_enabled();
  vcpu_.set_irqs_enabled(false);
  return was;
}

void GuestCpu::local_irq_restore(bool was_enabled) {
  vcpu_.set_irqs_enabled(was_enabled);
  if (was_enabled) vcpu_.boundary();
}

bool GuestCpu::vcpu_is_preempted(int cpu) const {
  return machine_.vcpu(cpu).preempted();
}

sim::Metrics& GuestCpu::metrics() {
  return machine_.metrics();
}
sim::Violations& GuestCpu::violations() {
  return machine_.violations();
}

}  // namespace vcpusim::cpu
