// `vcpusim sweep SPEC --dry-run [-o DIR]`: the points x seeds plan, each run by its stable id,
// and which of them DIR already holds; runs nothing, creates and writes nothing. Also the
// warnings a sweep prints before it runs (where the closed form's assumptions fail).
#pragma once
#include <ostream>
#include <string>

#include "sim/config/config.hpp"
#include "tools/sweep/sweep_spec.hpp"

namespace vcpusim::tools {

// Prints the plan of `spec` to `out`; when `dir` is a sweep directory, marks the runs it holds
// (their records checked as a resume would) and refuses, as a resume would, a DIR of another
// sweep (sim::ConfigError). Returns the exit status (0).
int dry_run_sweep(const SweepSpec& spec, const std::string& dir, std::ostream& out);

// One line per distinct warning of the plan's points ("model_warning"), naming the points it
// holds at: "sweep: warning: at points 1 (load=50), ...: TEXT". Empty when there is none.
std::string model_warning_lines(const sim::Json& plan);

}  // namespace vcpusim::tools
