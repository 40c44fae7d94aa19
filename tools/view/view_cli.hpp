// The `timeline` and `report` commands on a trace and a result (tools/commands.cpp lists them;
// their --diff forms are in tools/explore/diff_cli.hpp).
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Each throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_timeline(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
