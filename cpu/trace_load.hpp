// A `trace` host load (docs/host-trace.md): on each of its pCPUs, the busy intervals one trace
// CPU of a recording had, replayed as demand (a host thread pinned there that asks, at each
// interval's start, for the interval's length of CPU time, scheduled like any load) or as a
// reservation (the pCPU taken for exactly the interval: HostScheduler::steal).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "cpu/host_scheduler.hpp"
#include "cpu/params.hpp"
#include "sim/config.hpp"
#include "sim/kernel.hpp"

namespace vcpusim::cpu {

// Reads the recording `params` names (its trace keys at `node`) into params.trace_windows; bad
// input fails at `node` (file, JSON path, FILE:LINE, what was expected).
void read_trace_windows(LoadParams& params, const sim::Node& node);

class TraceLoadThread final : public HostThread {
 public:
  // Replays `params.trace_windows[k]` on pCPU params.cpus[k].
  TraceLoadThread(int id, std::string name, const LoadParams& params, std::size_t k,
                  sim::Kernel& kernel, HostScheduler& scheduler);
  void start();
  void on_work_done() override;

 private:
  void arm();
  void arrive();

  const std::vector<std::pair<Tick, Tick>>& windows_;
  TraceMode mode_;
  int pcpu_;
  sim::Kernel& kernel_;
  HostScheduler& scheduler_;
  std::size_t next_ = 0;
};

}  // namespace vcpusim::cpu
