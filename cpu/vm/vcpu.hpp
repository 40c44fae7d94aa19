// A vCPU: a host thread whose "work" is guest code. The guest runs as coroutines (execution
// contexts: one per guest task, switched by the guest's scheduler) that issue operations with
// costs; a cost is consumed only while the host runs the thread, so the host can preempt between
// operations or in the middle of one (the rest is paid later, after a VM entry). Interrupts are
// taken at operation boundaries, nested on the current context's stack. Every block goes through
// one primitive, block(): a spin (PAUSE loop, woken by writes to what it read, ended by a
// pause-loop exit after the PLE window) or a halt (HLT or pv_wait: a VM exit, woken by an
// interrupt or a kick). VCML processor-style: run to the next sync point, account the time, never
// stay stuck in time.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cpu/host/host_thread.hpp"
#include "cpu/vm/footprint.hpp"
#include "cpu/vm/memory.hpp"
#include "cpu/vm/wait.hpp"
#include "sim/core/decision.hpp"

namespace vcpusim::cpu {

class Machine;
class GuestCpu;

// Interrupt vectors, in priority order after the NMI: a lower number is taken first.
enum class Vector : int { kTimer = 0, kIpi = 1, kNmi = 2, kResched = 3 };
constexpr int kVectors = 4;

enum class GuestState { kRunning, kSpinning, kHalted, kExited };

// The guest's privilege level (CPL 0 or 3): Intel PLE fires only in kernel mode, and a spinner
// in kernel mode boosts only vCPUs preempted in kernel mode (kvm_vcpu_on_spin).
enum class GuestMode { kKernel, kUser };

// A target's state when an interrupt was sent to it (decides the delivery path; see apic.hpp).
enum class TargetState : int { kRunning = 0, kHalted = 1, kPreempted = 2 };
constexpr int kTargetStates = 3;

// Why the guest left: the reasons KVM's kvm_exit tracepoint prints for the exits modelled
// (arch/x86/include/uapi/asm/vmx.h's VMX_EXIT_REASONS names). Trace notes "kvm.exit" (a: the
// reason) and "kvm.entry" on the vCPU mark an exit's start and the entry's start.
enum class VmExitReason : int { kHlt, kPause, kVmcall, kMsrWrite, kExternalInterrupt };
const char* vm_exit_reason_name(VmExitReason r);

class Vcpu final : public HostThread {
 public:
  Vcpu(int index, std::vector<int> affinity, int nice, Machine& machine);
  ~Vcpu() override;

  int index() const { return index_; }
  // Registered id of its interrupt side (timer, IPI and NMI delivery events).
  int irq_component() const { return irq_component_; }
  GuestState guest_state() const { return guest_state_; }
  Tick steal_time() const { return wait_time(); }
  Tick spin_time() const { return spin_time_; }
  // Including a halt still open now.
  Tick halted_time() const;
  std::uint64_t interrupts_taken() const { return interrupts_taken_; }
  std::uint64_t nmis_taken() const { return nmis_taken_; }
  // NMIs raised while one was already latched (a third NMI during a handler is lost).
  std::uint64_t nmis_dropped() const { return nmis_dropped_; }
  // Instrumentation for guest-side statistics (a lock's halts, kicks and pause-loop exits).
  struct Counters {
    std::uint64_t halts = 0;
    std::uint64_t ple_exits = 0;
    std::uint64_t kicks_sent = 0;
    std::uint64_t fixed_point_waits = 0;  // plain loops of C code waited out (plain_loop.hpp)
  };
  const Counters& counters() const { return counters_; }
  void count_kick_sent() { ++counters_.kicks_sent; }
  void count_fixed_point_wait() { ++counters_.fixed_point_waits; }
  // Halted, but the host thread is still on its pCPU (exiting or halt-polling): an interrupt
  // arriving now needs no host wake-up.
  bool halt_polling() const { return guest_state_ == GuestState::kHalted && halt_host_running_; }
  bool interrupt_pending() const { return pending_ != 0; }
  bool pv_unhalted() const { return pv_unhalted_; }
  GuestMode mode() const { return mode_; }
  // Switches the guest's privilege level: the host's accounting is settled at the switch
  // (HostScheduler::set_guest_user), and the trace gets a user-mode span (note "mode.user").
  void set_mode(GuestMode m);
  // Run time (HostThread::run_time) in each mode, settled as run_time is (at the end of a run,
  // after HostScheduler::settle_all, they are exact). Host work on the vCPU's behalf (its VM exits
  // and entries) counts in the mode the guest was in, the CPL kvm_arch_vcpu_put would read.
  Tick user_time() const { return guest_user_time(); }
  Tick kernel_time() const { return run_time() - guest_user_time(); }
  // Halted, its host thread asleep, and a kick or IPI on the way: the kernel has already made
  // the thread runnable (kvm_vcpu_wake_up sets vcpu->ready) while costs.halt_wakeup passes.
  bool wake_in_flight() const {
    return guest_state_ == GuestState::kHalted && !halt_host_running_ && wake_sent_ >= 0 &&
           state() == ThreadState::kSleeping;
  }

  // Execution contexts: context 0 runs `main`; more are added for guest tasks before start().
  void set_main(std::function<void(GuestCpu&)> main);
  int add_context(std::string name, std::function<void(GuestCpu&)> body);
  int current_context() const { return current_ctx_; }
  // Lookahead (cpu/vm/footprint.hpp): what the task in `context` may touch; set before the run.
  // `is_private`: it may run ahead (decided by the machine from every declaration).
  void declare(int context, const Footprint* footprint);
  void set_private(int context, bool is_private);
  const Footprint* footprint(int context) const {
    return contexts_[static_cast<std::size_t>(context)].footprint;
  }
  int contexts() const { return static_cast<int>(contexts_.size()); }
  // The footprint in force now: the current task's, or none inside an interrupt handler.
  const Footprint* declared_now() const {
    return handler_depth_ == 0 ? contexts_[static_cast<std::size_t>(current_ctx_)].footprint
                               : nullptr;
  }
  bool transparent_work() const override;
  // Memory::write of the declared footprint's quiet word (Footprint::quiet).
  void quiet_word_written();
  // GuestCpu::order_point: running ahead, yield until every pending event before now has run.
  void order_point();
  void set_handler(Vector v, std::function<void(GuestCpu&)> handler);
  // Makes an interrupt pending; wakes a halted vCPU, breaks a spin if deliverable.
  void raise(Vector v);
  // KVM_HC_KICK_CPU reached this vCPU: pv_unhalted, which wakes a halt even with irqs off (a
  // sleeping thread after the host wake-up, costs.halt_wakeup).
  void kick(Vcpu& from);
  // Starts the vCPU thread at time 0 (spawns the guest coroutines).
  void start();
  // The local APIC timer in periodic mode: raises kTimer every `period`, each delivery delayed
  // by the VM's timer jitter.
  void start_periodic_timer(Tick period);
  // The one-shot (TSC deadline) timer: raises kTimer at `when` (replaces an earlier deadline).
  void arm_oneshot(Tick when);
  // APIC side: an interrupt was sent to this vCPU now, found in state `st` (for the latency from
  // send to handler start); exit_before(): its injection needs a VM exit + entry on this vCPU.
  void note_sent(Vector v, TargetState st);
  void exit_before(Vector v);

  // HostThread
  void on_work_done() override;
  void on_dispatch() override;
  void on_deschedule() override;

  // Accesses to shared memory started so far (GuestCpu counts each load, store and atomic to a
  // word Machine::counted()).
  std::uint64_t accesses() const { return accesses_; }
  // Fires `in` (Machine::fire) when this vCPU starts its in.access-th access.
  void stop_at_access(const sim::Injection& in);
  void on_access() {
    if (++accesses_ == next_hook_) hook_reached();
    if (accesses_ == next_stop_) stop_reached();
  }
  // Calls Machine::access_hook() as this vCPU starts its a-th access, before any injection
  // placed there (explore's fork server; never part of the model). clear_hooks() drops them.
  void hook_at_access(std::uint64_t a);
  void clear_hooks();

  // Operations this vCPU has paid for or blocked in so far (consume, block, vm_exit), whoever
  // ran them: a plain loop of C code (cpu/vm/ccode/plain_loop.hpp) is sure nothing else ran between
  // two of its loads when this moved by exactly its own.
  std::uint64_t operations() const { return operations_; }

  // Coroutine side (used by GuestCpu).
  void consume(Tick cost);
  void boundary();
  // Blocks as `spec` says. A spin watches `watched` (and returns kWrite at once if one of them
  // changed since it was read); `budget` is the spin time left and is reduced by what was spent.
  WakeReason block(const WaitSpec& spec, const WatchSet& watched, Tick& budget);
  // A VM exit on this vCPU for host work of `handling` cost; `host` runs on the host side, then
  // the entry is paid. `reason` is what the kvm_exit tracepoint would say (run --host-trace).
  void vm_exit(Tick handling, const std::function<void()>& host,
               VmExitReason reason = VmExitReason::kVmcall);
  // Switches to another execution context of this vCPU (the guest scheduler's switch_to).
  void switch_to(int context);
  bool irqs_enabled() const { return irqs_enabled_; }
  void set_irqs_enabled(bool on) { irqs_enabled_ = on; }
  bool in_nmi() const { return in_nmi_; }
  void add_spin_time(Tick t) { spin_time_ += t; }
  // The set the current wait condition is reading into (null outside a condition).
  WatchSet* recording() const { return recording_; }
  void set_recording(WatchSet* ws) { recording_ = ws; }
  // Memory notification for a watched word.
  void watched_write();
  // Called when a halt begins and on each write to a word the vCPU watches while halted (the
  // no_lost_wakeup check's probe); empty to remove.
  void set_halt_probe(std::function<void()> probe) { halt_probe_ = std::move(probe); }
  Machine& machine() { return machine_; }
  GuestCpu& guest() { return *guest_; }

 private:
  enum class Request { kNone, kWork, kSpin, kHalt, kVmExit, kSwitch, kFinished };
  // What the host side of the thread is doing while it runs.
  enum class HostPhase { kGuest, kExit, kEntry };
  enum class ExitKind { kNone, kHalt, kPle, kCall };
  bool deliverable() const;
  void take_interrupt(Vector v);
  void note_exit(VmExitReason reason);
  void run_guest();
  void apply_request();
  void end_spin(WakeReason why, Tick extra_work);
  void end_halt(WakeReason why);
  void arm_spin();
  Tick spin_consumed();
  void enter_then(bool resume, Tick extra = 0);
  void after_exit();
  void arm_timer(Tick nominal, Tick period);
  // A kick or IPI is on its way to this halted vCPU: the start of its wake-up latency.
  void note_wake_sent();
  void stop_reached();
  void yield_to_host();
  void check_not_ahead(const char* what) const;

  struct Context {
    std::string name;
    std::function<void(GuestCpu&)> body;
    int coroutine = -1;
    const Footprint* footprint = nullptr;  // none: unknown
    bool is_private = false;
  };
  bool private_now() const {
    return handler_depth_ == 0 && contexts_[static_cast<std::size_t>(current_ctx_)].is_private;
  }

  int index_;
  int irq_component_;
  Machine& machine_;
  GuestCpu* guest_;
  std::vector<Context> contexts_;
  int current_ctx_ = 0;
  Tick yielded_at_ = 0;    // the time of its last yield: past the driver's if it ran ahead
  int handler_depth_ = 0;  // interrupt handlers running (a declared footprint does not hold there)
  int switch_target_ = -1;
  std::function<void(GuestCpu&)> handlers_[kVectors];
  unsigned pending_ = 0;
  bool irqs_enabled_ = true;
  bool in_nmi_ = false;
  bool pv_unhalted_ = false;
  GuestMode mode_ = GuestMode::kKernel;
  int waker_pcpu_ = -1;  // the pCPU of the vCPU whose kick wakes this one
  GuestState guest_state_ = GuestState::kRunning;
  Request request_ = Request::kNone;
  Tick request_cost_ = 0;
  WakeReason wake_reason_ = WakeReason::kCondition;
  WatchSet* recording_ = nullptr;

  // The host side.
  HostPhase phase_ = HostPhase::kGuest;
  ExitKind exit_kind_ = ExitKind::kNone;
  std::function<void()> exit_host_;  // the host work of the current exit
  bool resume_after_entry_ = false;  // after the entry: resume the guest (else: continue `saved_`)
  Tick saved_work_ = 0;              // the guest work interrupted by a host preemption
  bool needs_entry_ = false;         // descheduled while in the guest: the next dispatch enters
  bool halt_host_running_ = false;   // halted, host thread still exiting or polling

  // The current spin.
  const WaitSpec* spin_spec_ = nullptr;
  const WatchSet* spin_watched_ = nullptr;
  Tick spin_budget_ = 0;   // spin time left of the wait's budget
  Tick spin_armed_ = 0;    // the work armed for this stretch of the spin
  bool spin_ple_ = false;  // this stretch ends at the PLE window, not the budget
  sim::EventKey deadline_event_;

  Tick halt_start_ = 0;
  Tick poll_start_ = 0;      // the current halt's poll began (after its HLT exit)
  Tick poll_window_ = 0;     // the current halt's halt-polling window
  Tick wake_sent_ = -1;      // the first kick or IPI sent to the current halt, -1 if none
  sim::EventKey kick_wake_;  // a kick's host wake-up of the sleeping thread, due
  Tick spin_time_ = 0;
  Tick halted_time_ = 0;
  std::uint64_t interrupts_taken_ = 0;
  std::uint64_t nmis_taken_ = 0;
  std::uint64_t nmis_dropped_ = 0;
  Counters counters_;
  std::function<void()> halt_probe_;
  unsigned exit_pending_ = 0;  // vectors whose injection costs this vCPU an exit
  unsigned sent_pending_ = 0;  // vectors with a send time below
  Tick sent_at_[kVectors] = {0, 0, 0, 0};
  TargetState sent_state_[kVectors] = {};
  sim::EventKey oneshot_;
  std::uint64_t accesses_ = 0;
  std::uint64_t operations_ = 0;
  std::uint64_t next_stop_ = UINT64_MAX;
  std::uint64_t next_hook_ = UINT64_MAX;
  std::vector<std::uint64_t> hooks_;  // latest first
  void hook_reached();
  std::vector<sim::Injection> stops_;  // by access, latest first
};

}  // namespace vcpusim::cpu
