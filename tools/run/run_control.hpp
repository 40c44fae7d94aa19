// Keeps a long run under the user's control: SIGINT or a spent wall-clock budget (--max-wall)
// stops it where it is (a partial result, "complete": false), and a terminal shows a progress
// line with an ETA once the run has taken a few seconds. Only when the run stops early does wall
// time affect a result; a complete run stays deterministic.
#pragma once
#include <chrono>
#include <csignal>
#include <string>

#include "sim/time.hpp"

namespace vcpusim::tools {

class RunControl {
 public:
  // `max_wall`: wall-clock budget in picoseconds (0: none); `progress`: draw the progress line
  // (on stderr, when it is a terminal).
  RunControl(sim::Tick duration, sim::Tick max_wall, bool progress);
  ~RunControl();  // restores SIGINT and clears the progress line
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // For sim::Kernel::set_poll: false once the run must stop.
  bool poll(sim::Tick now);
  // Why the run stopped early ("" when it did not).
  const std::string& stop_reason() const { return reason_; }

 private:
  using Clock = std::chrono::steady_clock;
  sim::Tick duration_;
  sim::Tick max_wall_;
  bool progress_;
  bool drawn_ = false;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  std::string reason_;
  struct sigaction previous_ {};
};

}  // namespace vcpusim::tools
