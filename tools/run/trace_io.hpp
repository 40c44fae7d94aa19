// Glue between a run and its trace outputs (sim/trace/trace.hpp): the vocabularies of the host and
// vCPUs (cpu/trace_lanes.hpp) and of the guest (guest/trace_lanes.hpp), the violations from the
// result document, and the --trace-* volume options.
#pragma once
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cpu/trace_lanes.hpp"
#include "guest/trace_lanes.hpp"
#include "sim/checks/checks.hpp"
#include "sim/trace/trace.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::tools {

// Every trace category: the vocabularies' (cpu/, guest/) and the engine's own.
std::vector<std::string> trace_categories();

// --trace-from / --trace-to (durations, "" for open) and --trace-kinds (comma list of
// trace_categories(), "" for all). Throws sim::ConfigError on bad values.
sim::TraceFilter parse_trace_filter(const std::string& from, const std::string& to,
                                    const std::string& kinds);

// A violation as the trace shows it: dated as in the result JSON (to the nanosecond).
sim::TraceViolation trace_violation(const sim::Violation& v);

// The trace of a run streamed to its files as the run goes (RunOptions::trace): `chrome` and
// `vcd` are the open outputs (null: not wanted). The Chrome JSON leads with "window_ps", as
// write_chrome_trace.
class TraceStream {
 public:
  TraceStream(const Scenario& scenario, const sim::Components& components,
              const sim::TraceFilter& filter, std::ostream* chrome, std::ostream* vcd);
  ~TraceStream();
  TraceStream(const TraceStream&) = delete;
  TraceStream& operator=(const TraceStream&) = delete;
  sim::TraceBuilder& builder() { return *builder_; }

 private:
  cpu::HostTraceVocabulary host_;
  guest::GuestTraceVocabulary guest_;
  std::unique_ptr<std::streambuf> rest_;  // the Chrome JSON after our opening brace
  std::unique_ptr<std::ostream> body_;
  std::unique_ptr<sim::TraceBuilder> builder_;
};

// Builds the trace of a run made with RunOptions::keep_events.
sim::Trace make_trace(const Scenario& scenario, const RunResult& result,
                      const sim::TraceFilter& filter);

// Writes the Chrome Trace Event JSON with the window it covers as a top-level
// "window_ps": {"from": F, "to": T} (the filter's window within the run), so readers need not
// guess it from the first and last events.
void write_chrome_trace(std::ostream& out, const sim::Trace& trace, const sim::TraceFilter& filter,
                        sim::Tick duration);

}  // namespace vcpusim::tools
