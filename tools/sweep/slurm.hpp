// `vcpusim sweep slurm`: an sbatch job array whose task i runs shard i/K of a sweep, a job that
// merges the shards once the array has ended, and a submit script chaining the two
// (tools/run/slurm_scripts writes them).
#pragma once
#include <cstddef>
#include <string>

#include "tools/run/shell_quote.hpp"

namespace vcpusim::tools {

struct SlurmOptions {
  std::string self;  // absolute path of the vcpusim binary the jobs run
  std::string spec;  // absolute path of the sweep spec
  std::string dir;   // absolute output directory; shards go to DIR/shards/I
  std::size_t array_size = 1;
  std::size_t cpus_per_task = 1;
  std::string partition, time;
};

// Writes DIR/slurm/{shard.sbatch, merge.sbatch, submit.sh}; returns the submit script's path.
std::string write_slurm_scripts(const SlurmOptions& o);

}  // namespace vcpusim::tools
