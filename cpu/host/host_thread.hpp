// A host thread: a vCPU thread or a host load task. The scheduler runs it on a pCPU; while it
// runs it consumes "work" (CPU time it needs before it has something new to decide).
#pragma once
#include <string>
#include <vector>

#include "sim/core/kernel.hpp"
#include "sim/time.hpp"

namespace vcpusim::cpu {

using sim::Tick;

enum class ThreadState { kSleeping, kRunnable, kRunning };

class HostThread {
 public:
  enum class Kind { kVcpu, kLoad };
  HostThread(int id, Kind kind, std::string name, std::vector<int> affinity, int nice);
  virtual ~HostThread() = default;
  HostThread(const HostThread&) = delete;
  HostThread& operator=(const HostThread&) = delete;

  int id() const { return id_; }
  int component() const { return component_; }  // registered by HostScheduler::add
  Kind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  const std::vector<int>& affinity() const { return affinity_; }
  std::int64_t weight() const { return weight_; }
  int nice() const { return nice_; }
  ThreadState state() const { return state_; }
  int pcpu() const { return pcpu_; }

  Tick run_time() const { return run_time_; }
  Tick wait_time() const { return wait_time_; }  // runnable but not running (steal for a vCPU)
  // The part of run_time() spent with guest_user set (a vCPU in guest user mode): split off at
  // every settle, so it is exact at every scheduler entry point and never counts waiting time.
  Tick guest_user_time() const { return guest_user_time_; }
  // When it last ran (se.exec_start: task_hot compares it with the migration cost).
  Tick last_ran() const { return last_ran_; }
  // Moves of a runnable thread between run queues by the load balancer.
  std::uint64_t migrations() const { return migrations_; }
  // Held off its run queue by CPU bandwidth control (HostScheduler::throttle); still runnable.
  bool throttled() const { return throttled_; }

  // Called by the scheduler.
  virtual void on_work_done() = 0;  // the work ran out while running
  virtual void on_dispatch() {}     // starts running
  virtual void on_deschedule() {}   // stops running but stays runnable (preempted)
  // Whether the work event armed now may be transparent to lookahead (sim::Kernel::Lane): what
  // runs when the work is done stays within a declared footprint (cpu/vm/footprint.hpp).
  virtual bool transparent_work() const { return false; }

 private:
  friend class HostScheduler;
  friend class FairPolicy;
  friend class RrPolicy;
  int id_;
  int component_ = -1;
  Kind kind_;
  std::string name_;
  std::vector<int> affinity_;
  std::int64_t weight_;
  int nice_;
  ThreadState state_ = ThreadState::kSleeping;
  bool throttled_ = false;
  int pcpu_ = -1;
  Tick work_left_ = sim::kForever;
  Tick segment_start_ = 0;  // start of the current run segment, or of the current wait
  sim::EventKey work_event_;
  Tick run_time_ = 0;
  Tick wait_time_ = 0;
  bool guest_user_ = false;  // HostScheduler::set_guest_user
  Tick guest_user_time_ = 0;
  Tick last_ran_ = 0;
  std::uint64_t migrations_ = 0;
  // fair policy
  std::int64_t vruntime_ = 0;
  std::int64_t vruntime_rem_ = 0;  // ran * 1024 not yet turned into vruntime (below weight_)
  Tick slice_start_ = 0;
};

std::int64_t nice_to_weight(int nice);

}  // namespace vcpusim::cpu
