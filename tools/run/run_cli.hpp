// The `run`, `validate` and `schema` commands (tools/commands.cpp lists them).
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Each throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_run(const std::vector<std::string>& args);
int cmd_validate(const std::vector<std::string>& args);
int cmd_schema(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
