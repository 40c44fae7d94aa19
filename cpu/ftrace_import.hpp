// Reads an ftrace text recording (cpu/ftrace_text.hpp) line by line into the busy intervals of
// the host threads that are not the VM's own, per selected trace CPU, within a window: what a
// `trace` host load replays (docs/host-trace.md). Memory holds the intervals of the window and
// one state per CPU, never the file.
#pragma once
#include <istream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace vcpusim::cpu {

struct FtraceSelection {
  bool report_form = false;            // `trace-cmd report` text instead of tracefs' trace file
  std::vector<int> trace_cpus;         // the trace CPUs to read, in the order of the result
  std::vector<std::string> exclude;    // comm patterns ('*': any run of characters) left out
  std::vector<std::int64_t> exclude_pids;  // pids left out (pid 0, the idle task, always is)
  sim::Tick from = 0;      // window start, after the trace's first line
  sim::Tick duration = 0;  // window length; 0: to the trace's last line
};

// Bad input in the recording: `problem` says where (FILE:LINE when a line is at fault) and what
// was found, `expected` what would have been read.
class FtraceError : public std::runtime_error {
 public:
  FtraceError(const std::string& problem, std::string expected)
      : std::runtime_error(problem), expected(std::move(expected)) {}
  std::string expected;
};

using Intervals = std::vector<std::pair<sim::Tick, sim::Tick>>;

// What a recording lacked that the reader bridged.
struct FtraceGaps {
  // Switches away from a task other than the one the CPU's previous switch put there: events
  // are missing (a tracer that filters pids, a lost event without a LOST line). The task
  // switched in is taken to have run until then.
  std::uint64_t broken_chains = 0;
  std::size_t first_line = 0;  // of the first one
};

// Per selected trace CPU, the [start, end) intervals (relative to the window start, in time
// order, touching ones merged) in which a thread that is not excluded ran there. `name` is the
// file's name in messages; `gaps`, when given, counts what was bridged.
std::vector<Intervals> import_ftrace(std::istream& in, const std::string& name,
                                     const FtraceSelection& selection,
                                     FtraceGaps* gaps = nullptr);

}  // namespace vcpusim::cpu
