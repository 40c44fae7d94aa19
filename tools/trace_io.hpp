// Glue between a run and its trace outputs (sim/trace.hpp): the vocabularies of the host and
// vCPUs (cpu/trace_lanes.hpp) and of the guest (guest/trace_lanes.hpp), the violations from the
// result document, and the --trace-* volume options.
#pragma once
#include <string>
#include <vector>

#include "sim/trace.hpp"
#include "tools/scenario.hpp"
#include "tools/simulation.hpp"

namespace vcpusim::tools {

// Every trace category: the vocabularies' (cpu/, guest/) and the engine's own.
std::vector<std::string> trace_categories();

// --trace-from / --trace-to (durations, "" for open) and --trace-kinds (comma list of
// trace_categories(), "" for all). Throws sim::ConfigError on bad values.
sim::TraceFilter parse_trace_filter(const std::string& from, const std::string& to,
                                    const std::string& kinds);

// Builds the trace of a run made with RunOptions::keep_events.
sim::Trace make_trace(const Scenario& scenario, const RunResult& result,
                      const sim::TraceFilter& filter);

// Writes the Chrome Trace Event JSON with the window it covers as a top-level
// "window_ps": {"from": F, "to": T} (the filter's window within the run), so readers need not
// guess it from the first and last events.
void write_chrome_trace(std::ostream& out, const sim::Trace& trace, const sim::TraceFilter& filter,
                        sim::Tick duration);

}  // namespace vcpusim::tools
