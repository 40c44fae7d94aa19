// A vCPU: a host thread whose "work" is guest code. The guest runs as a coroutine that issues
// operations with costs; a cost is consumed only while the host runs the thread, so the host can
// preempt between operations or in the middle of one (the rest is paid later). Interrupts are
// taken at operation boundaries, nested on the same guest stack (VCML processor-style loop: run
// to the next sync point, account the time, never stay stuck in time).
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "cpu/host_thread.hpp"

namespace vcpusim::cpu {

class Machine;
class GuestCpu;
struct Word;

enum class Vector : int { kTimer = 0, kIpi = 1, kNmi = 2 };
constexpr int kVectors = 3;

enum class GuestState { kRunning, kSpinning, kHalted, kExited };

// A target's state when an interrupt was sent to it (decides the delivery path; see apic.hpp).
enum class TargetState : int { kRunning = 0, kHalted = 1, kPreempted = 2 };
constexpr int kTargetStates = 3;

class Vcpu final : public HostThread {
 public:
  Vcpu(int index, std::vector<int> affinity, int nice, Machine& machine);
  ~Vcpu() override;

  int index() const { return index_; }
  // Registered id of its interrupt side (timer, IPI and NMI delivery events).
  int irq_component() const { return irq_component_; }
  GuestState guest_state() const { return guest_state_; }
  // KVM_VCPU_PREEMPTED: descheduled by the host while runnable.
  bool preempted() const { return preempted_; }
  Tick steal_time() const { return wait_time(); }
  Tick spin_time() const { return spin_time_; }
  // Including a halt still open now.
  Tick halted_time() const;
  std::uint64_t interrupts_taken() const { return interrupts_taken_; }
  std::uint64_t nmis_taken() const { return nmis_taken_; }
  // NMIs raised while one was already latched (a third NMI during a handler is lost).
  std::uint64_t nmis_dropped() const { return nmis_dropped_; }
  // Halted, but the host still polls for an interrupt on the vCPU's pCPU (vm.halt_poll_ns).
  bool halt_polling() const { return polling_; }

  void set_main(std::function<void(GuestCpu&)> main);
  void set_handler(Vector v, std::function<void(GuestCpu&)> handler);
  // Makes an interrupt pending; wakes a halted vCPU, breaks a spin if deliverable.
  void raise(Vector v);
  // Starts the vCPU thread at time 0 (spawns the guest coroutine).
  void start();
  // The local APIC timer in periodic mode: raises kTimer every `period`, each delivery delayed
  // by the VM's timer jitter.
  void start_periodic_timer(Tick period);
  // APIC side: an interrupt was sent to this vCPU now, found in state `st` (for the latency from
  // send to handler start); exit_before(): its injection needs a VM exit + entry on this vCPU.
  void note_sent(Vector v, TargetState st);
  void exit_before(Vector v);

  // HostThread
  void on_work_done() override;
  void on_dispatch() override;
  void on_deschedule() override;

  // Coroutine side (used by GuestCpu).
  void consume(Tick cost);
  void boundary();
  void spin_wait(std::initializer_list<Word*> watched);
  void halt();
  bool irqs_enabled() const { return irqs_enabled_; }
  void set_irqs_enabled(bool on) { irqs_enabled_ = on; }
  bool in_nmi() const { return in_nmi_; }
  void add_spin_time(Tick t) { spin_time_ += t; }
  // Memory notification for a watched word.
  void watched_write();
  Machine& machine() { return machine_; }
  GuestCpu& guest() { return *guest_; }

 private:
  enum class Request { kNone, kWork, kSpin, kHalt, kExit };
  bool deliverable() const;
  void take_interrupt(Vector v);
  void apply_request();
  void break_spin();
  void arm_timer(Tick nominal, Tick period);

  int index_;
  int irq_component_;
  Machine& machine_;
  GuestCpu* guest_;
  int coroutine_ = -1;
  std::function<void(GuestCpu&)> main_;
  std::function<void(GuestCpu&)> handlers_[kVectors];
  unsigned pending_ = 0;
  bool irqs_enabled_ = true;
  bool in_nmi_ = false;
  bool preempted_ = false;
  GuestState guest_state_ = GuestState::kRunning;
  Request request_ = Request::kNone;
  Tick request_cost_ = 0;
  Tick halt_start_ = 0;
  Tick spin_time_ = 0;
  Tick halted_time_ = 0;
  std::uint64_t interrupts_taken_ = 0;
  std::uint64_t nmis_taken_ = 0;
  std::uint64_t nmis_dropped_ = 0;
  bool polling_ = false;
  unsigned exit_pending_ = 0;  // vectors whose injection costs this vCPU an exit
  unsigned sent_pending_ = 0;  // vectors with a send time below
  Tick sent_at_[kVectors] = {0, 0, 0};
  TargetState sent_state_[kVectors] = {};
};

}  // namespace vcpusim::cpu
