// The one blocking primitive's vocabulary. A spin, HLT, pv_wait and a pause-loop exit are each a
// wait specification; the vCPU blocks on it and says why it woke. What a spin watches is not
// listed here: it is the set of words the wait's condition read (cpu::WatchSet).
#pragma once
#include "sim/time.hpp"

namespace vcpusim::cpu {

enum class WakeReason {
  kCondition,  // the condition held (no block, or after a re-check)
  kWrite,      // a word the condition read was written
  kInterrupt,  // a deliverable interrupt was taken (its handler has run)
  kKick,       // a pv kick (KVM_HC_KICK_CPU), irqs on or off
  kBudget,     // the spin budget (running time) ran out
  kDeadline,   // the absolute deadline passed
  kPleExit,    // a pause-loop exit: the host ran kvm_vcpu_on_spin, then re-entered the guest
};

const char* wake_reason_name(WakeReason r);

struct WaitSpec {
  enum class Mode {
    kSpin,  // a PAUSE loop: the vCPU keeps its pCPU; writes to what it read wake it
    kHalt,  // HLT: a VM exit; the host may run something else until an interrupt or a kick
  };
  Mode mode = Mode::kSpin;
  // Spin: whether an interrupt ends the wait (else the handler runs and the spin goes on).
  bool ends_on_interrupt = false;
  // Running time the spin may last, over all its re-checks (a spin threshold).
  sim::Tick budget = sim::kForever;
  sim::Tick deadline = sim::kForever;
  // Spin: whether the loop executes PAUSE (cpu_relax). VMX's pause-loop exiting counts PAUSEs
  // only, so a loop without one never exits to the host for spinning.
  bool pauses = true;

  static WaitSpec spin() { return WaitSpec{}; }
  static WaitSpec spin_without_pause() {
    WaitSpec s;
    s.pauses = false;
    return s;
  }
  static WaitSpec halt() { return WaitSpec{Mode::kHalt, true, sim::kForever, sim::kForever}; }
};

}  // namespace vcpusim::cpu
