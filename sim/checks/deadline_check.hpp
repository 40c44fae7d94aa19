// A section that must end within a bound (nmi_completes: every NMI handler returns). A timer event
// at start + bound reports a section still open, so a section that never ends is reported too.
#pragma once
#include <map>
#include <string>

#include "sim/checks/checks.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::sim {

class DeadlineCheck {
 public:
  // `check`: the violation's check name; `what`: the section in messages ("NMI handler").
  DeadlineCheck(Kernel& kernel, Violations& out, std::string check, std::string what, Tick bound);
  int begin(int cpu);
  void end(int token);
  Tick bound() const { return bound_; }

 private:
  struct Open {
    int cpu;
    Tick start;
    EventKey timer;
  };
  void expired(int token);

  Kernel& kernel_;
  Violations& out_;
  std::string check_;
  std::string what_;
  Tick bound_;
  int component_;  // its timers' tie-break
  int next_token_ = 1;
  std::map<int, Open> open_;
};

}  // namespace vcpusim::sim
