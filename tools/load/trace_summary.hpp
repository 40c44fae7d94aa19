// What `vcpusim load import` says about a recording it read: per trace CPU the share of the
// window other threads ran (and interrupts took), the busy-burst lengths, the busiest threads
// and the VM's threads it recognised and left out. Fed as the reader streams: memory flat in the
// trace's length.
#pragma once
#include <cstdint>
#include <map>
#include <ostream>
#include <vector>

#include "cpu/ftrace/ftrace_import.hpp"
#include "sim/config/config.hpp"
#include "sim/record/metrics.hpp"

namespace vcpusim::tools {

class TraceSummary final : public cpu::FtraceSink {
 public:
  // `next` receives every interval too (the file being written).
  explicit TraceSummary(cpu::FtraceSink& next) : next_(next) {}
  void busy(std::size_t cpu, const cpu::TraceBusy& b) override;
  void irq(std::size_t cpu, sim::Tick start, sim::Tick end) override;
  // `cpus`: the trace CPU number of each index; `span`: the window's length.
  void print(std::ostream& out, const std::vector<int>& cpus, sim::Tick span,
             const cpu::FtraceStats& stats) const;
  // The same figures as JSON, for the imported file.
  sim::Json to_json(const std::vector<int>& cpus, sim::Tick span) const;

 private:
  struct PerCpu {
    sim::Tick busy = 0;
    sim::Tick rt = 0;
    sim::Tick irq = 0;
    bool open = false;  // a burst: busy intervals touching whatever their priority
    sim::Tick burst_start = 0;
    sim::Tick burst_end = 0;
  };
  PerCpu& at(std::size_t cpu);
  void close_burst(PerCpu& c);
  // The burst lengths with each CPU's open burst counted too (the reader has finished).
  sim::Samples closed_bursts() const;

  cpu::FtraceSink& next_;
  std::vector<PerCpu> cpus_;
  sim::Samples bursts_;  // lengths in ns, to the microsecond (to 1/1024 above 1024 us)
};

}  // namespace vcpusim::tools
