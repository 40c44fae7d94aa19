// Runs a loaded scenario: builds the machine and the guest, runs, evaluates checks and expect.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "sim/config/config.hpp"
#include "sim/core/decision.hpp"
#include "sim/record/recorder.hpp"
#include "sim/trace/trace.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/schedule.hpp"

namespace vcpusim::tools {

struct RunResult {
  sim::Json document;  // the result JSON (byte-identical for the same binary, scenario and seed)
  bool expect_met = false;
  bool complete = true;          // false when RunOptions::poll or max_steps stopped the run early
  bool budget_exceeded = false;  // RunOptions::max_steps stopped it (deterministically)
  std::vector<std::string> unmet;
  // Only with RunOptions::keep_events: every recorded event and note, and the notes' labels.
  std::vector<sim::RecordedEvent> events;
  std::vector<std::pair<std::int64_t, std::string>> labels;
  sim::Components components;       // who recorded: names and groups of the events' component ids
  std::uint64_t kernel_events = 0;  // events the kernel ran (benchmarks: guest steps per event)
  std::uint64_t lookahead_steps = 0;          // operations that ran ahead of a pending event
  std::vector<std::uint64_t> guest_accesses;  // shared-memory accesses each vCPU started
  Failure failure;                       // the run's first violation, if any
};

struct RunOptions {
  bool temporal_decoupling = true;  // see sim::Kernel::try_advance
  bool lookahead = true;            // see sim::Kernel::try_lookahead (docs/lookahead.md)
  bool verify_footprints = false;   // run --verify-footprints (cpu/vm/footprint.hpp)
  bool keep_events = false;  // keep the event stream (report --diff, shrink, tests)
  // Streams the trace as the run goes (tools/run/trace_io.hpp TraceStream): called once the machine
  // and the guest exist, returns the sink for every event and reported violation; finished
  // after the run.
  std::function<sim::TraceBuilder*(const sim::Components&)> trace;
  // Where the host's schedule goes as ftrace text (run --host-trace;
  // cpu/ftrace/host_ftrace.hpp), or null.
  std::ostream* host_trace = nullptr;
  bool host_trace_ns = false;  // its timestamps in nanoseconds (run --host-trace-ns)
  // See sim::Kernel::set_poll: false stops the run there, and the result is partial.
  std::function<bool(sim::Tick)> poll;
  // See sim::Kernel::set_step_budget (0: none): a deterministic stop, unlike poll's wall clock.
  std::uint64_t max_steps = 0;
  // A schedule (explore, replay): a steer for the decisions and host events to add.
  sim::Steer* steer = nullptr;
  std::vector<sim::Injection> injections;
  std::vector<std::string> counted_words;  // see cpu::Machine::count_accesses_to
  cpu::RunObserver* observer = nullptr;
  // Called once the machine, the guest and the injections exist, before the run (explore's fork
  // server sets its access hooks here); it must not change what happens.
  std::function<void(cpu::Machine&)> prepare;  // explore's windows and coverage; never changes the run
  // Keeps the coroutines' stacks for the next run (sim::Kernel::use_stacks): explore and shrink
  // run thousands in one process. Null: each run maps its own.
  sim::StackPool* stacks = nullptr;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

// The metric groups (sim::MetricGroup::name) of the components a run of `scenario` has: the
// machine and guest built as run_scenario builds them, not run.
std::vector<std::string> metric_groups(const Scenario& scenario);

// The human summary printed on stdout.
std::string summarize(const Scenario& scenario, const RunResult& result);

}  // namespace vcpusim::tools
