// The `metrics` and `checks` commands (tools/commands.cpp lists them): what a scenario can name
// in its expect block, sweep specs and "checks", listed from the registries.
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Each throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_metrics(const std::vector<std::string>& args);
int cmd_checks(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
