// The kernel-like API guest models are written against: memory operations with costs, barriers,
// waits, interrupt flags, the TSC, HLT, hypercalls. Every call is one guest operation: its cost
// is consumed while the vCPU runs, its effect lands when the cost is paid, and pending interrupts
// are taken right after (an operation boundary). Guest code reads shared words only here: a wait
// watches exactly the words its condition read through this API (cpu::WatchSet), so it cannot
// miss a wake-up by forgetting a word.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "cpu/run_observer.hpp"
#include "cpu/vm/ccode/plain_loop.hpp"
#include "cpu/vm/memory.hpp"
#include "cpu/vm/vcpu.hpp"
#include "cpu/vm/wait.hpp"
#include "sim/checks/checks.hpp"
#include "sim/checks/wait_graph.hpp"
#include "sim/record/metrics.hpp"

namespace vcpusim::sim {
class LostWakeupCheck;
}

namespace vcpusim::cpu {

// Host-side view of guest words for a check's predicate, never for guest code: each read is
// recorded, so the check re-evaluates the predicate when one of the words is written.
class Peek {
 public:
  std::uint64_t operator()(Word& w) {
    read.add(w, MemoryInspector::writes(w));
    return MemoryInspector::value(w);
  }
  WatchSet read;
};
// When it holds, a halted waiter is owed a wake-up (no_lost_wakeup).
using WakeCondition = std::function<bool(Peek&)>;

class GuestCpu {
 public:
  GuestCpu(Vcpu& vcpu, Machine& machine) : vcpu_(vcpu), machine_(machine) {}

  int id() const { return vcpu_.index(); }
  // Simulated time, for instrumentation only (guest code reads time through rdtsc()).
  Tick now() const;

  std::uint64_t load(Word& w);
  void store(Word& w, std::uint64_t v);
  // A plain store to part of a word (a byte or half-word store): only the bits in `mask` change.
  void store_field(Word& w, std::uint64_t mask, std::uint64_t v);
  // Returns the old value; stores `desired` only if it equalled `expected`.
  std::uint64_t cmpxchg(Word& w, std::uint64_t expected, std::uint64_t desired);
  std::uint64_t xchg(Word& w, std::uint64_t v);
  std::uint64_t fetch_add(Word& w, std::uint64_t delta);
  // One atomic read-modify-write: stores f(old) and returns old. `f` runs when the operation
  // lands, so guest-side bookkeeping that belongs to the same atomic (an llist) lands with it.
  std::uint64_t rmw(Word& w, const std::function<std::uint64_t(std::uint64_t)>& f);
  // The same operations by address, for C guest code (plugin/, docs/c-guest-code.md): `size` bytes
  // (1, 2, 4 or 8) of a registered region (Memory::add_region), read or written in place when
  // the access's cost is paid, through the same costs, coherence, observer and wait recording
  // as the word operations. Atomics must be naturally aligned; no access may cross a cacheline.
  // A bad address is sim::ConfigError naming the vCPU, the time and the region offset.
  std::uint64_t load_at(const void* p, int size);
  void store_at(void* p, int size, std::uint64_t v);
  std::uint64_t cmpxchg_at(void* p, int size, std::uint64_t expected, std::uint64_t desired);
  std::uint64_t xchg_at(void* p, int size, std::uint64_t v);
  std::uint64_t fetch_add_at(void* p, int size, std::uint64_t delta);
  // Any other atomic read-modify-write by address (fetch_or, fetch_and, ...): stores f(old).
  std::uint64_t rmw_at(void* p, int size, const std::function<std::uint64_t(std::uint64_t)>& f,
                       const char* what = "atomic read-modify-write");
  // Instrumented C code (compiled with -fsanitize=thread, docs/c-guest-code.md): the compiled
  // code makes a plain load or store of [p, p + size) itself, right after this returns. Each
  // line of it inside a region is one access of costs.load or costs.store, paid here so that the
  // native access happens at its completion time; bytes in no region (the fiber's stack, host
  // memory) are local and cost nothing. A store lands, and the operation boundary is taken, at
  // land_plain(), which the caller runs before any other guest operation of this vCPU and before
  // returning to vcpusim: between the two only the native access runs. `is_marked` tells the
  // data_race check a volatile access (as READ_ONCE is) from a plain one; `pc` is the code
  // address of the access, for its message. A load may pass the code's state (`frame`, see
  // cpu/vm/ccode/plain_loop.hpp): a loop found at a fixed point waits, as a spin without PAUSE,
  // for a write to a line it read (Vcpu::Counters::fixed_point_waits counts them).
  void plain_access(const void* p, std::size_t size, bool write, bool is_marked, const void* pc,
                    const std::uint64_t* frame = nullptr);
  void land_plain();
  // The C code did something other than a plain load (a call into the host API): whatever loop
  // it is in has not been at a fixed point since.
  void forget_plain_loop() { loop_.reset(); }
  bool plain_pending() const { return plain_boundary_owed_; }
  // cpu_relax() in a loop of address loads: blocks as a spin until a line read by address since
  // the last relax (or forget_reads) is written, so an unchanged loop costs no event per
  // iteration; returns at once when one already was. With nothing read it is one
  // costs.pause_iteration of computation.
  void cpu_relax();
  // Starts a new loop's read set (entering C guest code: what it read before is not its loop's).
  void forget_reads() { relax_reads_.entries.clear(); }
  // pv_wait by address: halts only if the `size` bytes at `p` still hold `val`.
  WakeReason pv_wait_at(const void* p, int size, std::uint64_t val);

  // Lookahead (cpu/vm/footprint.hpp): a declared task calls it before anything whose order
  // across vCPUs matters (a record, a check's sample). Running ahead of pending events, it waits
  // (at no cost in simulated time) until they ran; otherwise it does nothing.
  void order_point() { vcpu_.order_point(); }

  void smp_mb();
  void smp_rmb() { barrier(); }  // x86: loads are not reordered with loads
  void smp_wmb() { barrier(); }  // x86: stores are not reordered with stores
  void barrier() {}              // compiler barrier: orders, costs nothing
  // Plain computation of the given cost.
  void compute(Tick cost);
  // The privilege level the following operations run at: user mode (CPL 3) or kernel mode
  // (CPL 0, the default). Costs nothing here; PLE and directed yield read it (hypervisor.hpp),
  // the vCPU's run time is split by it (vcpuN.user_ns, vcpuN.kernel_ns) and the trace shows it.
  // Interrupts are handled in kernel mode and return to it; tasks switch only in kernel mode.
  void set_user_mode(bool user) { vcpu_.set_mode(user ? GuestMode::kUser : GuestMode::kKernel); }
  bool user_mode() const { return vcpu_.mode() == GuestMode::kUser; }
  std::uint64_t rdtsc();

  // Returns the previous "irqs enabled" state.
  bool local_irq_save();
  void local_irq_restore(bool was_enabled);
  bool irqs_disabled() const { return !vcpu_.irqs_enabled(); }
  bool in_nmi() const { return vcpu_.in_nmi(); }

  // The one blocking primitive. Evaluates `cond` (its loads are real loads, recorded); while it
  // is false, blocks as `spec` says. A spin re-evaluates after every write to a word the last
  // evaluation read (paying costs.spin_recheck and the loads), and goes on through interrupts and
  // pause-loop exits unless `spec` ends it there; a halt blocks once. Returns why it ended.
  template <class Cond>
  WakeReason wait(Cond cond, const WaitSpec& spec) {
    Tick budget = spec.budget;
    for (;;) {
      WatchSet ws;
      if (evaluate(cond, ws)) return WakeReason::kCondition;
      const WakeReason why = vcpu_.block(spec, ws, budget);
      if (spec.mode == WaitSpec::Mode::kHalt) return why;
      if (why == WakeReason::kWrite || why == WakeReason::kPleExit) continue;
      if (why == WakeReason::kInterrupt && !spec.ends_on_interrupt) continue;
      return why;
    }
  }
  // A spin until `cond` holds (cpu_relax loop), declared to the wait-for graph (no_deadlock,
  // no_hang) when `on.what` is set. Unless `on.serviceable` is set, the wait services requests
  // exactly when irqs are enabled. The time spent is spin time.
  template <class Cond>
  void spin_until(Cond cond, sim::WaitOn on = {}) {
    WatchSet first;
    if (evaluate(cond, first)) return;
    const int token = on.what.empty() ? 0 : begin_wait(on);
    const Tick start = now();
    trace("spin.begin", first.empty() ? -1 : first.entries.front().word->id, on.holder);
    wait(cond, WaitSpec::spin());
    trace("spin.end", first.empty() ? -1 : first.entries.front().word->id, on.holder);
    vcpu_.add_spin_time(now() - start);
    if (token) end_wait(token);
  }
  // HLT: until an interrupt (or a pending kick).
  void halt();
  // The same, telling the no_lost_wakeup check what should wake it (see pv_wait below).
  void halt(const std::string& what, const WakeCondition& owed);
  // pv_wait(ptr, val) (arch/x86/kernel/kvm.c kvm_wait): halts only if `w` still holds `val`;
  // woken by a pv kick even with irqs off, or by a deliverable interrupt. May return spuriously.
  // `mask` compares part of the word (pv_wait on a byte of it).
  WakeReason pv_wait(Word& w, std::uint64_t val, std::uint64_t mask = ~0ULL);
  // The same, telling the no_lost_wakeup check (when enabled) what should wake this halt: while
  // halted, `owed` is re-evaluated whenever a word it read is written.
  WakeReason pv_wait(Word& w, std::uint64_t val, std::uint64_t mask, const std::string& what,
                     const WakeCondition& owed);
  // pv_kick(cpu): KVM_HC_KICK_CPU.
  void pv_kick(int cpu);
  // KVM_HC_SCHED_YIELD: ask the host to run `cpu` (when it is preempted) instead of us.
  void sched_yield(int cpu);
  // vcpu_is_preempted(): a real load of the target's steal-time `preempted` flag.
  bool vcpu_is_preempted(int cpu);
  bool pv_unhalt() const;

  // Interrupts to other vCPUs through the local APIC (cpu/vm/apic.hpp): the sender pays its VM
  // exits, then each target is interrupted according to its state.
  void send_ipi(int target) { send_ipi_many({target}); }
  void send_ipi_many(const std::vector<int>& targets);
  void send_nmi(int target);
  void send_resched(int target);
  // The one-shot (TSC deadline) timer of this vCPU: an interrupt at `when`.
  void arm_timer(Tick when) { vcpu_.arm_oneshot(when); }
  // Execution contexts (guest tasks): switch this vCPU to `context` (no cost: the guest
  // scheduler pays costs.context_switch).
  void switch_to(int context) { vcpu_.switch_to(context); }
  int current_context() const { return vcpu_.current_context(); }

  // Declares a wait to the wait-for graph (no_deadlock, no_hang) for waits built on wait()
  // directly; returns a token for end_wait (0 when no graph is enabled).
  int begin_wait(sim::WaitOn on);
  void end_wait(int token);
  // Instrumentation: halted time, halts, kicks sent and pause-loop exits of this vCPU.
  const Vcpu::Counters& counters() const { return vcpu_.counters(); }
  Tick halted_time() const { return vcpu_.halted_time(); }

  // Declares a window (cpu/run_observer.hpp) open or closed, for explore; costs nothing and
  // changes nothing. Prefer WindowScope.
  void window(const WindowSite& site, const Word* object, bool open);
  // Trace-only event on this vCPU's lane, for --trace (never hashed: see sim::Recorder::note).
  void trace(const char* kind, std::int64_t a, std::int64_t b = 0);

  Machine& machine() { return machine_; }
  sim::Metrics& metrics();
  sim::Violations& violations();

 private:
  template <class Cond>
  bool evaluate(Cond& cond, WatchSet& ws) {
    WatchSet* outer = vcpu_.recording();
    vcpu_.set_recording(&ws);
    struct Restore {
      Vcpu& v;
      WatchSet* outer;
      ~Restore() { v.set_recording(outer); }
    } restore{vcpu_, outer};
    return cond();
  }
  void op(Tick cost) { vcpu_.consume(cost); }
  // Runs `halt_fn` with the no_lost_wakeup probe installed (when the check is enabled).
  template <class Fn>
  WakeReason probed_halt(const std::string& what, const WakeCondition& owed, Fn halt_fn);
  Tick access(Word& w, bool write);
  void verify_footprint(const Word& w, bool write) const;
  // The line word of an address access, after the size and alignment checks.
  Word& line_at(const void* p, int size, bool atomic, const char* what);
  [[noreturn]] void fault(const std::string& what) const;
  // Records a read by address for cpu_relax (the latest version of each line).
  void note_read(Word& w);
  // An address write landed: the line's write count moves on and its watchers wake.
  void wrote(Word& w);
  Tick hypercall_cost();
  void read(Word& w);

  // Before a plain load by code in the state at `frame`: waits while its loop is at a fixed point.
  void wait_if_fixed_point(const std::uint64_t* frame);
  bool on_own_stack(std::uintptr_t at) const;

  // Tells the data_race check (when enabled) of a marked access by address.
  void marked(const Word& line, const void* p, int size, bool read, bool write);

  Vcpu& vcpu_;
  Machine& machine_;
  WatchSet relax_reads_;             // lines read by address since the last cpu_relax
  std::vector<Word*> plain_stores_;  // lines of plain stores not landed yet (land_plain)
  bool plain_boundary_owed_ = false;
  PlainLoop loop_;
};

// A window (cpu/run_observer.hpp) for the scope's lifetime: open at construction, closed at
// every way out of the scope.
class WindowScope {
 public:
  WindowScope(GuestCpu& cpu, const WindowSite& site, const Word* object = nullptr)
      : cpu_(cpu), site_(site), object_(object) {
    cpu_.window(site_, object_, true);
  }
  ~WindowScope() { cpu_.window(site_, object_, false); }
  WindowScope(const WindowScope&) = delete;
  WindowScope& operator=(const WindowScope&) = delete;

 private:
  GuestCpu& cpu_;
  const WindowSite& site_;
  const Word* object_;
};

}  // namespace vcpusim::cpu
