// `vcpusim sweep`: run a sweep spec (locally or as one shard), merge shards, write Slurm
// scripts, print the spec's JSON Schema.
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// Throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_sweep(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
