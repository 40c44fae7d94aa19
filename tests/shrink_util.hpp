// Failing replays found by explore in-process, and shrink run through the real binary, for the
// shrink and diff tests.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "cli_util.hpp"
#include "scenario_util.hpp"
#include "tools/explore/explore.hpp"
#include "tools/run/trace_io.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::test {

// The first failure explore --first finds in `name` (a scenario under scenarios/) with pct.
inline tools::ReplayFile first_failure(const std::string& name, std::uint64_t schedules) {
  auto s = tools::Scenario::load(scenario_path(name));
  tools::ExploreOptions o;
  o.schedules = schedules;
  o.first = true;
  const tools::ExploreReport r = tools::explore(*s, o);
  if (r.failures.empty()) ADD_FAILURE() << name << ": explore found no failure in " << schedules;
  return r.failures.empty() ? tools::ReplayFile{} : r.failures.front().replay;
}

inline void write_replay(const fs::path& p, const tools::ReplayFile& r) {
  std::ofstream(p) << r.to_json().dump(2) << "\n";
}

// Host preemptions of any vCPU that began before the run's failure (injected ones and load-task
// windows alike), counted from the run's trace: the vCPU lanes' "preempted" slices.
inline int preemptions_before_failure(const tools::ReplayFile& r) {
  tools::RunOptions o;
  o.keep_events = true;
  const tools::Replayed run = tools::run_replay(r, "replay", o);
  std::ostringstream text;
  tools::write_chrome_trace(text, tools::make_trace(*run.scenario, run.result, sim::TraceFilter{}),
                            sim::TraceFilter{}, run.scenario->duration);
  const tools::TraceView v = tools::parse_trace(text.str());
  int n = 0;
  for (const auto& l : v.lanes)
    if (!l.pcpu)
      for (const auto& s : l.slices)
        if (s.depth == 0 && s.name == "preempted" && s.start <= run.result.failure.time) ++n;
  return n;
}

}  // namespace vcpusim::test
