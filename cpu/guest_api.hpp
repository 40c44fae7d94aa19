// The kernel-like API guest models are written against: memory operations with costs, barriers,
// event-driven spinning, interrupt flags, the TSC, HLT. Every call is one guest operation: its
// cost is consumed while the vCPU runs, its effect lands when the cost is paid, and pending
// interrupts are taken right after (an operation boundary).
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

#include "cpu/memory.hpp"
#include "cpu/vcpu.hpp"
#include "sim/checks.hpp"
#include "sim/metrics.hpp"
#include "sim/wait_graph.hpp"

namespace vcpusim::cpu {

class GuestCpu {
 public:
  GuestCpu(Vcpu& vcpu, Machine& machine) : vcpu_(vcpu), machine_(machine) {}

  int id() const { return vcpu_.index(); }
  // Simulated time, for instrumentation only (guest code reads time through rdtsc()).
  Tick now() const;

  std::uint64_t load(Word& w);
  void store(Word& w, std::uint64_t v);
  // Returns the old value; stores `desired` only if it equalled `expected`.
  std::uint64_t cmpxchg(Word& w, std::uint64_t expected, std::uint64_t desired);
  std::uint64_t xchg(Word& w, std::uint64_t v);
  std::uint64_t fetch_add(Word& w, std::uint64_t delta);
  // One atomic read-modify-write: stores f(old) and returns old. `f` runs when the operation
  // lands, so guest-side bookkeeping that belongs to the same atomic (an llist) lands with it.
  std::uint64_t rmw(Word& w, const std::function<std::uint64_t(std::uint64_t)>& f);
  void smp_mb();
  void smp_rmb() { barrier(); }  // x86: loads are not reordered with loads
  void smp_wmb() { barrier(); }  // x86: stores are not reordered with stores
  void barrier() {}              // compiler barrier: orders, costs nothing
  // Plain computation of the given cost.
  void compute(Tick cost);
  std::uint64_t rdtsc();

  // Returns the previous "irqs enabled" state.
  bool local_irq_save();
  void local_irq_restore(bool was_enabled);
  bool irqs_disabled() const { return !vcpu_.irqs_enabled(); }
  bool in_nmi() const { return vcpu_.in_nmi(); }
  void halt() { vcpu_.halt(); }
  bool vcpu_is_preempted(int cpu) const;

  // Interrupts to other vCPUs through the local APIC (cpu/apic.hpp): the sender pays its VM
  // exits, then each target is interrupted according to its state.
  void send_ipi(int target) { send_ipi_many({target}); }
  void send_ipi_many(const std::vector<int>& targets);
  void send_nmi(int target);

  // Spins until pred() holds. Event-driven: sleeps until one of `watched` is written (or an
  // interrupt arrives), then re-evaluates; the time spent is spin time.
  template <class Pred>
  void spin_until(Pred pred, std::initializer_list<Word*> watched, int holder = -1) {
    if (pred()) return;
    const Tick start = now();
    trace("spin.begin", watched.size() ? (*watched.begin())->id : -1, holder);
    while (!pred()) vcpu_.spin_wait(watched);
    trace("spin.end", watched.size() ? (*watched.begin())->id : -1, holder);
    vcpu_.add_spin_time(now() - start);
  }
  // The same, declared to the wait-for graph (no_deadlock, no_hang) as a wait on `on`. Unless
  // `on.serviceable` is set, the wait services requests exactly when irqs are enabled.
  template <class Pred>
  void spin_until(Pred pred, std::initializer_list<Word*> watched, sim::WaitOn on) {
    if (pred()) return;
    const int holder = on.holder;
    const int token = begin_wait(std::move(on));
    spin_until(pred, watched, holder);
    end_wait(token);
  }

  // Trace-only event on this vCPU's lane, for --trace (never hashed: see sim::Recorder::note).
  void trace(const char* kind, std::int64_t a, std::int64_t b = 0);

  Machine& machine() { return machine_; }
  sim::Metrics& metrics();
  sim::Violations& violations();

 private:
  void op(Tick cost) { vcpu_.consume(cost); }
  Tick access(Word& w, bool write);
  int begin_wait(sim::WaitOn on);
  void end_wait(int token);

  Vcpu& vcpu_;
  Machine& machine_;
};

}  // namespace vcpusim::cpu
