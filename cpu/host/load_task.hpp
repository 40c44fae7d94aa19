// A host load generator: a host thread that wants a CPU during its busy windows (wall-clock
// windows: a busy window that is preempted is not extended). Window times come from the
// decision source for the random kinds.
#pragma once
#include "cpu/host/host_scheduler.hpp"
#include "cpu/params.hpp"
#include "sim/core/decision.hpp"

namespace vcpusim::cpu {

class LoadTask final : public HostThread {
 public:
  LoadTask(int id, std::string name, const LoadParams& params, sim::Kernel& kernel,
           HostScheduler& scheduler, sim::DecisionSource& decisions);
  void start();
  void on_work_done() override {}

 private:
  void begin_busy(Tick end);
  void end_busy();
  void schedule_window(Tick start, Tick end);
  void next_random_window(Tick from);
  // A duty window's length: busy, or a decision in [busy, busy_max].
  Tick duty_busy();

  const LoadParams& params_;
  LoadKind kind_;
  sim::Kernel& kernel_;
  HostScheduler& scheduler_;
  sim::DecisionSource& decisions_;
  std::size_t script_index_ = 0;
  std::int64_t period_index_ = 0;
  Tick phase_ = 0;  // duty: the first window's start (decided when phase_max is set)
};

}  // namespace vcpusim::cpu
