// The first divergence of two runs in plain words (tools/explore/report_diff.hpp): "at 1.234ms,
// the failing run: pCPU1 preempted vCPU2; the passing run did not (its next event, at 1.240ms:
// ...)" rather than the raw records.
#pragma once
#include <string>

#include "sim/record/recorder.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::tools {

// One recorded event as a clause: "pCPU1 preempted vCPU2", "vCPU0 entered its timer interrupt
// handler"; an event kind it does not know is named as recorded.
std::string event_clause(const RunResult& run, const sim::RecordedEvent& e);

// The sentence naming the first divergence. `passing`/`failing` point at each run's first event
// that differs (nullptr past the end of its stream).
std::string divergence_sentence(const RunResult& passing_run, const sim::RecordedEvent* passing,
                                const RunResult& failing_run, const sim::RecordedEvent* failing);

}  // namespace vcpusim::tools
