// `vcpusim explore`: search host schedules of a scenario for failures (tools/explore/explore.hpp).
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_explore(const std::vector<std::string>& args);

// The progress line's rate, two significant digits at least (a slow scenario's 0.31, not "0");
// "-" when no time was measured.
std::string schedules_per_second(double n, double seconds);

}  // namespace vcpusim::tools
