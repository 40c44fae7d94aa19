#include "cpu/vm/vcpu.hpp"

#include <algorithm>
#include <functional>

#include "cpu/machine.hpp"
#include "cpu/vm/apic.hpp"
#include "cpu/vm/guest_api.hpp"
#include "cpu/vm/hypervisor.hpp"
#include "sim/checks/deadline_check.hpp"
#include "sim/error.hpp"

namespace vcpusim::cpu {
const char* wake_reason_name(WakeReason r) {
  switch (r) {
    case WakeReason::kCondition:
      return "condition";
    case WakeReason::kWrite:
      return "write";
    case WakeReason::kInterrupt:
      return "interrupt";
    case WakeReason::kKick:
      return "kick";
    case WakeReason::kBudget:
      return "budget";
    case WakeReason::kDeadline:
      return "deadline";
    case WakeReason::kPleExit:
      return "ple-exit";
  }
  return "?";
}

Vcpu::Vcpu(int index, std::vector<int> affinity, int nice, Machine& machine)
    : HostThread(index, Kind::kVcpu, "vcpu" + std::to_string(index), std::move(affinity), nice),
      index_(index),
      irq_component_(machine.kernel().components().add("vcpu" + std::to_string(index) + ".irq",
                                                       "vcpu.irq", index)),
      machine_(machine),
      guest_(new GuestCpu(*this, machine)) {
  contexts_.push_back(Context{name(), nullptr, -1});
}

Vcpu::~Vcpu() {
  delete guest_;
}

Tick Vcpu::halted_time() const {
  if (guest_state_ != GuestState::kHalted) return halted_time_;
  return halted_time_ + (machine_.kernel().now() - halt_start_);
}

void Vcpu::set_main(std::function<void(GuestCpu&)> main) {
  contexts_[0].body = std::move(main);
}

int Vcpu::add_context(std::string name, std::function<void(GuestCpu&)> body) {
  contexts_.push_back(Context{std::move(name), std::move(body), -1});
  return static_cast<int>(contexts_.size()) - 1;
}

void Vcpu::declare(int context, const Footprint* footprint) {
  contexts_.at(static_cast<std::size_t>(context)).footprint = footprint;
}

void Vcpu::set_private(int context, bool is_private) {
  contexts_.at(static_cast<std::size_t>(context)).is_private = is_private;
}

// Armed work is transparent when what runs at its completion is the declared task's own code:
// a guest operation (not an exit, entry or spin) of a declared task, with no interrupt pending
// (raise() moves an armed event to the barriers when one becomes pending).
bool Vcpu::transparent_work() const {
  const Footprint* f = declared_now();
  return phase_ == HostPhase::kGuest && guest_state_ == GuestState::kRunning && pending_ == 0 &&
         request_ == Request::kWork && f &&
         (!f->quiet || MemoryInspector::value(*f->quiet) % 2 == 0);
}

void Vcpu::quiet_word_written() {
  machine_.scheduler().make_work_barrier(*this);
}

void Vcpu::set_handler(Vector v, std::function<void(GuestCpu&)> handler) {
  handlers_[static_cast<int>(v)] = std::move(handler);
}

void Vcpu::start() {
  for (Context& c : contexts_) {
    Context* ctx = &c;
    c.coroutine = machine_.kernel().spawn(c.name, [this, ctx] {
      if (ctx->body) ctx->body(*guest_);
      request_ = Request::kFinished;
    });
  }
  machine_.scheduler().wake(*this);
  enter_then(true);
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
  // A delivery delay longer than the period would land before the previous tick's delivery:
  // the two coalesce in the pending bit, as a LAPIC tick pending in the IRR does.
  machine_.kernel().at(std::max(nominal + delay, machine_.kernel().now()), sim::Phase::kInterrupt,
                       irq_component_, [this, nominal, period] {
                         raise(Vector::kTimer);
                         arm_timer(nominal + period, period);
                       });
}

void Vcpu::arm_oneshot(Tick when) {
  sim::Kernel& k = machine_.kernel();
  k.cancel(oneshot_);
  oneshot_ = k.at(std::max(when, k.now()), sim::Phase::kInterrupt, irq_component_, [this] {
    oneshot_ = sim::EventKey{};
    raise(Vector::kTimer);
  });
}

void Vcpu::watched_write() {
  if (guest_state_ == GuestState::kSpinning)
    end_spin(WakeReason::kWrite, machine_.costs().spin_recheck.value);
  else if (guest_state_ == GuestState::kHalted && halt_probe_)
    halt_probe_();
}

// --- host side -------------------------------------------------------------------------------

void Vcpu::on_work_done() {
  switch (phase_) {
    case HostPhase::kEntry:
      phase_ = HostPhase::kGuest;
      if (resume_after_entry_) {
        resume_after_entry_ = false;
        if (wake_sent_ >= 0) {  // running guest code again after a kick or IPI woke the halt
          machine_.hypervisor().halt_wakeup(machine_.kernel().now() - wake_sent_);
          wake_sent_ = -1;
        }
        run_guest();
      } else if (guest_state_ == GuestState::kSpinning) {
        arm_spin();
      } else {
        machine_.scheduler().set_work(*this, saved_work_);
      }
      return;
    case HostPhase::kExit:
      after_exit();
      return;
    case HostPhase::kGuest:
      break;
  }
  if (guest_state_ == GuestState::kSpinning) {  // the budget or the PLE window ran out
    if (spin_budget_ != sim::kForever) spin_budget_ -= spin_armed_;
    if (!spin_ple_) {
      end_spin(WakeReason::kBudget, 0);
      return;
    }
    guest_state_ = GuestState::kRunning;
    machine_.kernel().cancel(deadline_event_);
    wake_reason_ = WakeReason::kPleExit;
    exit_kind_ = ExitKind::kPle;
    note_exit(VmExitReason::kPause);
    phase_ = HostPhase::kExit;
    // The exit, then handle_pause and kvm_vcpu_on_spin's scan before the yield is decided.
    machine_.scheduler().set_work(
        *this, machine_.costs().vm_exit.value + machine_.costs().ple_handler.value);
    return;
  }
  if (guest_state_ == GuestState::kHalted) {  // halt-polling ran out: the host thread sleeps
    halt_host_running_ = false;
    machine_.scheduler().sleep(*this);
    return;
  }
  run_guest();
}

void Vcpu::run_guest() {
  sim::Kernel& k = machine_.kernel();
  request_ = Request::kNone;
  k.resume(contexts_[static_cast<std::size_t>(current_ctx_)].coroutine);
  while (request_ == Request::kSwitch) {
    current_ctx_ = switch_target_;
    request_ = Request::kNone;
    k.resume(contexts_[static_cast<std::size_t>(current_ctx_)].coroutine);
  }
  apply_request();
}

void Vcpu::apply_request() {
  HostScheduler& s = machine_.scheduler();
  sim::Kernel& k = machine_.kernel();
  // Every request but work waits for its turn (order_point): the host acts on it in key order.
  if (request_ != Request::kWork && k.running_ahead())
    throw sim::SimError("lookahead violation: " + name() + " asked the host for more than CPU " +
                        "time at " + sim::format_time(k.now()) + " while running ahead");
  switch (request_) {
    case Request::kWork:
      s.set_work(*this, request_cost_);
      break;
    case Request::kSpin:
      guest_state_ = GuestState::kSpinning;
      machine_.memory().watch(*spin_watched_, *this);
      if (spin_spec_->deadline != sim::kForever)
        deadline_event_ = k.at(spin_spec_->deadline, sim::Phase::kInterrupt, irq_component_, [this] {
          deadline_event_ = sim::EventKey{};
          if (guest_state_ == GuestState::kSpinning) end_spin(WakeReason::kDeadline, 0);
        });
      arm_spin();
      break;
    case Request::kHalt:
      guest_state_ = GuestState::kHalted;
      halt_start_ = k.now();
      halt_host_running_ = true;
      k.recorder().note(halt_start_, component(), "halt.begin");
      note_exit(VmExitReason::kHlt);
      ++counters_.halts;
      exit_kind_ = ExitKind::kHalt;
      phase_ = HostPhase::kExit;
      s.set_work(*this, machine_.costs().vm_exit.value);
      if (halt_probe_) halt_probe_();
      break;
    case Request::kVmExit:
      exit_kind_ = ExitKind::kCall;
      phase_ = HostPhase::kExit;
      s.set_work(*this, request_cost_);
      break;
    case Request::kFinished:
    case Request::kNone:
    case Request::kSwitch:
      guest_state_ = GuestState::kExited;
      s.sleep(*this);
      break;
  }
}

void Vcpu::arm_spin() {
  const Tick ple = spin_spec_->pauses ? machine_.hypervisor().ple_window(*this) : sim::kForever;
  spin_ple_ = ple < spin_budget_;
  spin_armed_ = spin_ple_ ? ple : spin_budget_;
  machine_.scheduler().set_work(*this, spin_armed_);
}

Tick Vcpu::spin_consumed() {
  if (phase_ != HostPhase::kGuest || guest_state_ != GuestState::kSpinning ||
      spin_armed_ == sim::kForever)
    return 0;
  return spin_armed_ - machine_.scheduler().work_left(*this);
}

void Vcpu::end_spin(WakeReason why, Tick extra_work) {
  if (spin_budget_ != sim::kForever) spin_budget_ -= spin_consumed();
  guest_state_ = GuestState::kRunning;
  machine_.kernel().cancel(deadline_event_);
  wake_reason_ = why;
  if (phase_ == HostPhase::kEntry) {  // entering after a preemption: the guest follows the entry
    saved_work_ = extra_work;
    return;
  }
  machine_.scheduler().set_work(*this, extra_work);
}

void Vcpu::end_halt(WakeReason why) {
  sim::Kernel& k = machine_.kernel();
  k.cancel(kick_wake_);
  // kvm_vcpu_halt after the wake-up: during the HLT exit the host has not begun to poll (the
  // wake-up is found at once); afterwards the halt lasted from the poll's start.
  Hypervisor& hv = machine_.hypervisor();
  if (phase_ == HostPhase::kExit)
    hv.halt_ended(*this, 0, hv.halt_poll_window(*this) > 0, false);
  else
    hv.halt_ended(*this, k.now() - poll_start_, poll_window_ > 0, !halt_host_running_);
  guest_state_ = GuestState::kRunning;
  halted_time_ += k.now() - halt_start_;
  k.recorder().note(k.now(), component(), "halt.end");
  wake_reason_ = why;
  pv_unhalted_ = false;
  if (phase_ == HostPhase::kExit) return;  // still paying the HLT exit: after_exit() enters
  if (!halt_host_running_) machine_.scheduler().wake(*this, waker_pcpu_);
  waker_pcpu_ = -1;
  halt_host_running_ = false;
  enter_then(true);
}

void Vcpu::enter_then(bool resume, Tick extra) {
  sim::Kernel& k = machine_.kernel();
  k.recorder().note(k.now(), component(), "kvm.entry");
  phase_ = HostPhase::kEntry;
  resume_after_entry_ = resume;
  machine_.scheduler().set_work(*this, machine_.costs().vm_entry.value + extra);
}

void Vcpu::after_exit() {
  phase_ = HostPhase::kGuest;
  switch (exit_kind_) {
    case ExitKind::kHalt:
      if (guest_state_ != GuestState::kHalted) {  // woken while exiting
        halt_host_running_ = false;
        enter_then(true);
        break;
      }
      poll_start_ = machine_.kernel().now();
      poll_window_ = machine_.hypervisor().halt_poll_window(*this);
      if (poll_window_ > 0) {
        machine_.scheduler().set_work(*this, poll_window_);
      } else {
        halt_host_running_ = false;
        machine_.scheduler().sleep(*this);
      }
      break;
    case ExitKind::kPle:
      ++counters_.ple_exits;
      // A successful directed yield ends in the host's schedule() (costs.host_schedule).
      enter_then(true, machine_.hypervisor().pause_loop_exit(*this)
                           ? machine_.costs().host_schedule.value
                           : 0);
      break;
    case ExitKind::kCall: {
      auto host = std::move(exit_host_);
      exit_host_ = nullptr;
      if (host) host();
      enter_then(true);
      break;
    }
    case ExitKind::kNone:
      break;
  }
  exit_kind_ = ExitKind::kNone;
}

void Vcpu::on_dispatch() {
  machine_.hypervisor().scheduled_in(*this);
  if (!needs_entry_) return;
  needs_entry_ = false;
  if (guest_state_ == GuestState::kSpinning) {
    if (spin_budget_ != sim::kForever) spin_budget_ -= spin_consumed();
    spin_armed_ = 0;
  } else {
    saved_work_ = machine_.scheduler().work_left(*this);
  }
  enter_then(false);
}

void Vcpu::on_deschedule() {
  if (phase_ == HostPhase::kGuest && guest_state_ != GuestState::kHalted) {
    needs_entry_ = true;
    note_exit(VmExitReason::kExternalInterrupt);  // the host's interrupt that preempts it
  }
  if (guest_state_ == GuestState::kRunning || guest_state_ == GuestState::kSpinning)
    if (RunObserver* o = machine_.observer()) o->preempted(index());
  machine_.hypervisor().scheduled_out(*this, true);
}

// --- guest side ------------------------------------------------------------------------------

void Vcpu::set_mode(GuestMode m) {
  if (m == mode_) return;
  machine_.scheduler().set_guest_user(*this, m == GuestMode::kUser);
  mode_ = m;
  sim::Kernel& k = machine_.kernel();
  k.recorder().note(k.now(), component(), "mode.user", m == GuestMode::kUser ? 1 : 0);
}

void Vcpu::stop_at_access(const sim::Injection& in) {
  stops_.push_back(in);
  std::stable_sort(stops_.begin(), stops_.end(),
                   [](const sim::Injection& a, const sim::Injection& b) { return a.access > b.access; });
  next_stop_ = stops_.back().access;
}

void Vcpu::hook_at_access(std::uint64_t a) {
  hooks_.push_back(a);
  std::sort(hooks_.begin(), hooks_.end(), std::greater<>());
  next_hook_ = hooks_.back();
}

void Vcpu::clear_hooks() {
  hooks_.clear();
  next_hook_ = UINT64_MAX;
}

// Synchronous, inside this coroutine: what the hook changes (the injections it adds at this
// access) is seen by the stop check that follows.
void Vcpu::hook_reached() {
  while (!hooks_.empty() && hooks_.back() == accesses_) hooks_.pop_back();
  next_hook_ = hooks_.empty() ? UINT64_MAX : hooks_.back();
  if (const auto& hook = machine_.access_hook()) hook(index(), accesses_);
}

// The host acts at this instant, before the access's operation is paid: through an event, so
// the host side runs outside this coroutine and the operation then waits for it.
void Vcpu::stop_reached() {
  sim::Kernel& k = machine_.kernel();
  while (!stops_.empty() && stops_.back().access == accesses_) {
    const sim::Injection in = stops_.back();
    stops_.pop_back();
    k.at(k.now(), sim::Phase::kHost, component(), [this, in] { machine_.fire(in); });
  }
  next_stop_ = stops_.empty() ? UINT64_MAX : stops_.back().access;
}

void Vcpu::consume(Tick cost) {
  ++operations_;
  // Running and nothing else due before this operation completes: the event path would resume
  // us right away, so skip the context switch (the scheduler accounts the time on its next look).
  // A private task (footprint.hpp) may also run ahead of other tasks' transparent events.
  if (state() == ThreadState::kRunning) {
    sim::Kernel& k = machine_.kernel();
    const Tick t = k.now() + cost;
    if ((private_now() && k.try_lookahead(t)) || k.try_advance(t)) return;
  }
  request_ = Request::kWork;
  request_cost_ = cost;
  yield_to_host();
}

// Where its own time stands when it hands over: ahead of the driver's after running ahead.
void Vcpu::yield_to_host() {
  sim::Kernel& k = machine_.kernel();
  yielded_at_ = k.now();
  k.yield();
}

// An interrupt or kick for a vCPU that already ran past now would be taken too late: only a
// declared task acting on another vCPU, as its footprint says it does not, gets here.
void Vcpu::check_not_ahead(const char* what) const {
  const sim::Kernel& k = machine_.kernel();
  if (yielded_at_ > k.now())
    throw sim::SimError("lookahead violation: " + std::string(what) + " for " + name() + " at " +
                        sim::format_time(k.now()) + ", which already ran ahead to " +
                        sim::format_time(yielded_at_) +
                        "; a declared task sent it, as its footprint says it does not "
                        "(docs/lookahead.md)");
}

// A completion of no work at this instant, so the driver resumes this coroutine in key order, after
// the events it ran ahead of. Not a step: the same run without lookahead has no such event.
void Vcpu::order_point() {
  sim::Kernel& k = machine_.kernel();
  if (!k.running_ahead()) return;
  k.uncount_step();
  request_ = Request::kWork;
  request_cost_ = 0;
  yield_to_host();
}

WakeReason Vcpu::block(const WaitSpec& spec, const WatchSet& watched, Tick& budget) {
  ++operations_;
  sim::Kernel& k = machine_.kernel();
  if (spec.mode == WaitSpec::Mode::kSpin) {
    if (Memory::changed(watched)) return WakeReason::kWrite;
    if (budget <= 0) return WakeReason::kBudget;
    if (spec.deadline <= k.now()) return WakeReason::kDeadline;
    if (deliverable()) {
      boundary();
      return WakeReason::kInterrupt;
    }
    order_point();  // a wait starts in turn
    spin_spec_ = &spec;
    spin_watched_ = &watched;
    spin_budget_ = budget;
    request_ = Request::kSpin;
    yield_to_host();
    machine_.memory().unwatch(watched, *this);
    budget = spin_budget_;
  } else {
    if (pv_unhalted_) {
      pv_unhalted_ = false;
      return WakeReason::kKick;
    }
    if (deliverable()) {
      boundary();
      return WakeReason::kInterrupt;
    }
    order_point();
    spin_spec_ = &spec;
    request_ = Request::kHalt;
    yield_to_host();
  }
  const WakeReason why = wake_reason_;
  boundary();
  return why;
}

const char* vm_exit_reason_name(VmExitReason r) {
  switch (r) {
    case VmExitReason::kHlt: return "HLT";
    case VmExitReason::kPause: return "PAUSE_INSTRUCTION";
    case VmExitReason::kVmcall: return "VMCALL";
    case VmExitReason::kMsrWrite: return "MSR_WRITE";
    case VmExitReason::kExternalInterrupt: return "EXTERNAL_INTERRUPT";
  }
  return "VMCALL";
}

void Vcpu::note_exit(VmExitReason reason) {
  sim::Kernel& k = machine_.kernel();
  k.recorder().note(k.now(), component(), "kvm.exit", static_cast<int>(reason));
}

void Vcpu::vm_exit(Tick handling, const std::function<void()>& host, VmExitReason reason) {
  ++operations_;
  order_point();
  note_exit(reason);
  exit_host_ = host;
  request_ = Request::kVmExit;
  request_cost_ = machine_.costs().vm_exit.value + handling;
  yield_to_host();
  boundary();
}

void Vcpu::switch_to(int context) {
  if (context < 0 || context >= static_cast<int>(contexts_.size()))
    throw sim::SimError(name() + ": switch to an unknown context");
  if (recording_) throw sim::SimError(name() + ": a wait condition may not switch tasks");
  // The guest switches tasks in schedule(), in kernel mode; a task's user mode is its own.
  if (mode_ == GuestMode::kUser) throw sim::SimError(name() + ": a task switch in user mode");
  if (context == current_ctx_) return;
  order_point();  // the next task starts in turn: it may have declared nothing
  switch_target_ = context;
  request_ = Request::kSwitch;
  yield_to_host();
}

}  // namespace vcpusim::cpu
