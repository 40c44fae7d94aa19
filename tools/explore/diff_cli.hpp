// `vcpusim report --diff` and `vcpusim timeline --diff` (tools/explore/report_diff.hpp).
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Each throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_report_diff(const std::vector<std::string>& args);
int cmd_timeline_diff(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
