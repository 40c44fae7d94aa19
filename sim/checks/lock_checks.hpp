// Checks for lock algorithms, from generic observations: who holds which lock, and which CPUs sit
// halted while the condition that should wake them holds. They never know an algorithm by name.
#pragma once
#include <string>
#include <vector>

#include "sim/checks/checks.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::sim {

// mutual_exclusion: a lock acquired while another CPU holds it.
class MutualExclusionCheck {
 public:
  static constexpr const char* kName = "mutual_exclusion";
  explicit MutualExclusionCheck(Violations& out) : out_(out) {}
  void acquired(int lock, const std::string& name, int cpu, Tick now);
  void released(int lock, int cpu);

 private:
  struct Held {
    int cpu = -1;
    Tick since = 0;
  };
  Violations& out_;
  std::vector<Held> holders_;
};

// no_lost_wakeup: a CPU halted in pv_wait while the condition that should wake it (for a lock:
// it is next in line and the lock is free) has held for longer than `bound` with no kick
// arriving. The bound must exceed how long a kicker may legitimately be delayed between making
// the condition true and kicking (a host preemption of the unlocker lasts up to a host slice).
class LostWakeupCheck {
 public:
  static constexpr const char* kName = "no_lost_wakeup";
  LostWakeupCheck(Kernel& kernel, Violations& out, Tick bound)
      : kernel_(kernel), out_(out), bound_(bound) {}
  // The wake-up condition of `cpu`, halted in pv_wait on `what`, was (re-)evaluated.
  void update(int cpu, const std::string& what, bool holds);
  // The halt of `cpu` ended (kick, interrupt or spurious).
  void resumed(int cpu);
  std::uint64_t reported() const { return reported_; }

 private:
  struct Halt {
    bool holds = false;
    bool reported = false;
    Tick since = 0;
    std::string what;
    EventKey timer;
  };
  void expire(int cpu);
  Halt& at(int cpu);

  Kernel& kernel_;
  Violations& out_;
  Tick bound_;
  int component_ = -1;  // registered at first use: runs without pv waits keep their ids
  std::vector<Halt> halts_;
  std::uint64_t reported_ = 0;
};

}  // namespace vcpusim::sim
