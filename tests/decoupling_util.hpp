// A scenario run both ways: with temporal decoupling (inline advances, sim::Kernel::try_advance)
// and on the event path (RunOptions::temporal_decoupling = false, `run --no-decoupling`). The
// result JSON must be byte-identical; the kernel's event count (RunResult::kernel_events, in
// neither the result JSON nor the fingerprint) shows that decoupling engaged: an operation it
// advances inline is one event fewer, so a test that ignored the flag would see equal counts.
#pragma once
#include <cstdint>
#include <string>

#include "sim/error.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::test {

struct Way {
  std::string document;  // the result JSON, or the simulation error
  std::uint64_t kernel_events = 0;
};

struct BothWays {
  Way decoupled, event_path;
};

inline Way run_one_way(const tools::Scenario& s, tools::RunOptions o, bool decoupled) {
  o.temporal_decoupling = decoupled;
  try {
    const auto r = tools::run_scenario(s, o);
    return {r.document.dump(), r.kernel_events};
  } catch (const sim::SimError& e) {
    return {std::string("simulation error: ") + e.what(), 0};
  }
}

// `make_options` gives each run fresh options (a steer keeps state across a run).
template <class MakeOptions>
BothWays run_both_ways(const tools::Scenario& s, MakeOptions make_options) {
  return {run_one_way(s, make_options(), true), run_one_way(s, make_options(), false)};
}

inline BothWays run_both_ways(const tools::Scenario& s) {
  return run_both_ways(s, [] { return tools::RunOptions{}; });
}

}  // namespace vcpusim::test
