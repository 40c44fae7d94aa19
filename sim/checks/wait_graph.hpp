// Who spins on whom. Every CPU has a stack of open waits (a handler nested on the same guest stack
// waits on top of the code it interrupted). no_deadlock: a new wait that closes a cycle of waits
// none of which can resolve is reported with the cycle. no_hang: a wait still open after a bound
// is reported, from a timer event, naming what it waits on. Generic: a wait only says what it is
// on, which CPU must act, and whether that CPU must take a request or continue its own code.
#pragma once
#include <string>
#include <vector>

#include "sim/checks/checks.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::sim {

// What the waiting CPU needs from the CPU it waits for.
enum class Needs {
  kService,   // take an interrupt or poll its request queue (a queued call, an IPI)
  kProgress,  // continue the code it is running (a write section, a held lock)
};

struct WaitOn {
  std::string what;  // e.g. "tk_core.seq", "csd of vCPU0 queued on vCPU1"
  int holder = -1;   // the CPU that must act; -1 when unknown
  Needs needs = Needs::kProgress;
  // The waiting CPU still services requests while it waits (irqs on, or it polls its queue).
  bool serviceable = false;
};

class WaitGraph {
 public:
  static constexpr const char* kDeadlock = "no_deadlock";
  static constexpr const char* kHang = "no_hang";

  // Both checks start off; turn them on before the first wait.
  WaitGraph(Kernel& kernel, Violations& out);
  // no_deadlock: report a wait that closes a cycle.
  void check_deadlocks() { deadlock_ = true; }
  // no_hang: report a wait open for longer than `after`.
  void check_hangs(Tick after) {
    hang_ = true;
    hang_after_ = after;
  }
  // Opens a wait on top of `cpu`'s stack; returns the token end() takes.
  int begin(int cpu, WaitOn on);
  // Closes the innermost wait of `cpu` (waits nest, so they end in reverse order).
  void end(int cpu, int token);
  std::uint64_t waits() const { return waits_; }

 private:
  struct Wait {
    WaitOn on;
    Tick since = 0;
    int token = 0;
    EventKey timer;
  };
  bool blocked(int holder, Needs needs, int from) const;
  void find_cycle(int start);
  void hang(int cpu, int token);
  static const char* describe(Needs n);

  Kernel& kernel_;
  Violations& out_;
  bool deadlock_ = false;
  bool hang_ = false;
  Tick hang_after_ = 0;
  int component_;  // its watchdog timers' tie-break
  int next_token_ = 1;
  std::uint64_t waits_ = 0;
  std::vector<std::vector<Wait>> stacks_;
};

}  // namespace vcpusim::sim
