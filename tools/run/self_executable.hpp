// The running vcpusim binary, for the commands that start more of it (sweep's runs, the Slurm
// jobs of sweep slurm and explore slurm).
#pragma once
#include <string>

namespace vcpusim::tools {

// Path of the running executable (/proc/self/exe); sim::ConfigError when it cannot be read.
std::string self_executable();

}  // namespace vcpusim::tools
