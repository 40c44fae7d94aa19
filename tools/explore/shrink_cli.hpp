// `vcpusim shrink` (tools/explore/shrink.hpp).
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_shrink(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
