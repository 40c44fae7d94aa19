// A `trace` host load (docs/host-trace.md): on each of its pCPUs, what one trace CPU of a
// recording ran, replayed. Fair threads (kernel prio 100-139) replay as demand: a host thread
// pinned there, at the recorded nice, asks at each interval's start for the interval's length of
// CPU time and is scheduled like any load (a vCPU can delay it). Real-time threads (prio below
// 100) and interrupt time take the pCPU for exactly the recorded intervals (a reservation:
// HostScheduler::steal), as they preempt every fair thread on a real host; mode `reserve` replays
// the fair threads that way too. The window may start at an offset into it and repeat.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "cpu/host/host_scheduler.hpp"
#include "cpu/params.hpp"
#include "sim/config/config.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::cpu {

// Reads the recording `params` names (its trace keys at `node`) into params.trace; bad input
// fails at `node` (file, JSON path, FILE:LINE, what was expected).
void read_trace_windows(LoadParams& params, const sim::Node& node);

// What one pCPU of a trace load replays, by thread: the first plan of a pCPU carries its
// reservations and the demand at the load's own nice; the others the demand at other nices.
struct TraceThreadPlan {
  std::string name;
  int pcpu = 0;
  int nice = 0;
  std::vector<std::pair<Tick, Tick>> demand;
  std::vector<std::pair<Tick, Tick>> reserve;  // merged, in time order
  Tick period = 0;  // the window's length when it repeats, else 0
};

// The threads of load `name` (loadI): one per pCPU (loadI, or loadI.K on several), and one more
// per other nice the recording ran there (loadI.niceN, loadI.K.niceN), in pCPU then nice order.
std::vector<TraceThreadPlan> plan_trace_load(const LoadParams& params, const std::string& name);

// The intervals of [0, span) moved so the window starts at `offset` (those before it come after
// the rest), cut where the offset falls.
std::vector<std::pair<Tick, Tick>> rotate_window(const std::vector<std::pair<Tick, Tick>>& in,
                                                 Tick offset, Tick span);

class TraceLoadThread final : public HostThread {
 public:
  TraceLoadThread(int id, TraceThreadPlan plan, sim::Kernel& kernel, HostScheduler& scheduler);
  void start();
  void on_work_done() override;

 private:
  // One list replayed in order, again each period when the window repeats.
  struct Cursor {
    const std::vector<std::pair<Tick, Tick>>* list;
    std::size_t next = 0;
    Tick base = 0;  // the current repetition's start
  };
  void arm(Cursor& c, bool reserve);
  void arrive_demand(Tick length);

  TraceThreadPlan plan_;
  sim::Kernel& kernel_;
  HostScheduler& scheduler_;
  Cursor demand_;
  Cursor reserve_;
};

}  // namespace vcpusim::cpu
