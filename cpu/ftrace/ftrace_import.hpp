// Reads a host recording in text form (tracefs' ftrace text, `trace-cmd report`, `perf script`;
// cpu/ftrace/ftrace_text.hpp) line by line into what a `trace` host load replays
// (docs/host-trace.md): per selected trace CPU, the busy intervals of the host threads that are
// not the VM's own, with the kernel priority they ran at, and the interrupt time (hard and soft
// irq) that took the CPU from whatever ran. Memory holds one state per CPU and per thread seen,
// never the file: the intervals go to a sink as they close.
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace vcpusim::cpu {

// kAuto: the first event line decides (perf's "COMM PID [CPU]" columns, or tracefs' and
// trace-cmd's "COMM-PID [CPU]"; trace-cmd's header lines are skipped).
enum class TraceFormat { kAuto, kFtrace, kTraceCmd, kPerf };

struct FtraceSelection {
  TraceFormat format = TraceFormat::kAuto;
  // The trace CPUs to read, in the order of the result. Empty: every CPU the recording has, each
  // at the index of its number (FtraceStats::cpus lists them).
  std::vector<int> trace_cpus;
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

// A stretch a recorded thread ran, at its kernel priority (prio: 0-99 real-time, 100-139 fair,
// 120 + nice; -1 deadline), relative to the window's start.
struct TraceBusy {
  sim::Tick start = 0;
  sim::Tick end = 0;
  int prio = 120;
  bool operator==(const TraceBusy& o) const {
    return start == o.start && end == o.end && prio == o.prio;
  }
};

// One trace CPU's recording within the window: busy intervals (touching ones of one priority
// merged; an interrupt splits the interval it hit) and interrupt intervals (irq_handler_entry to
// irq_handler_exit, softirq_entry to softirq_exit, nested ones as one, touching ones merged).
struct CpuRecording {
  std::vector<TraceBusy> busy;
  Intervals irq;
  bool operator==(const CpuRecording& o) const { return busy == o.busy && irq == o.irq; }
};

struct Recording {
  std::vector<CpuRecording> cpus;  // per selected trace CPU
  sim::Tick span = 0;              // the window's length
};

// What a recording lacked that the reader bridged.
struct FtraceGaps {
  // Switches away from a task other than the one the CPU's previous switch put there: events
  // are missing (a tracer that filters pids, a lost event without a LOST line). The task
  // switched in is taken to have run until then.
  std::uint64_t broken_chains = 0;
  std::size_t first_line = 0;  // of the first one
  // An irq or softirq exit with no entry before it on that CPU (its entry was before the
  // recording began): ignored.
  std::uint64_t unmatched_irq_exits = 0;
};

// Per thread, what the selected CPUs ran of it within the window (for `load import`'s summary).
struct TraceThread {
  std::string comm;  // as last seen
  bool excluded = false;
  int prio = 120;  // as last switched in
  sim::Tick ran = 0;
};

struct FtraceStats {
  std::map<std::int64_t, TraceThread> threads;  // by pid, the idle task left out
  TraceFormat format = TraceFormat::kAuto;      // as detected
  std::uint64_t lines = 0;
  std::uint64_t switches = 0;
  std::uint64_t irq_events = 0;
  std::vector<int> cpus;  // with every CPU selected: the CPUs the recording has, in order
  std::vector<int> cpus_without_switch;  // among them, those with no sched_switch (left idle)
};

// Receives each CPU's intervals in time order as they close (`cpu`: index into trace_cpus).
class FtraceSink {
 public:
  virtual ~FtraceSink() = default;
  virtual void busy(std::size_t cpu, const TraceBusy& b) = 0;
  virtual void irq(std::size_t cpu, sim::Tick start, sim::Tick end) = 0;
};

// Streams the recording into `sink`; returns the window's length. `name` is the file's name in
// messages; `gaps` and `stats`, when given, are filled.
sim::Tick import_ftrace(std::istream& in, const std::string& name, const FtraceSelection& selection,
                        FtraceSink& sink, FtraceGaps* gaps = nullptr, FtraceStats* stats = nullptr);

// The same, collected.
Recording import_ftrace(std::istream& in, const std::string& name, const FtraceSelection& selection,
                        FtraceGaps* gaps = nullptr);

const char* trace_format_name(TraceFormat f);

}  // namespace vcpusim::cpu
