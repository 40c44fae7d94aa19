// `vcpusim explore slurm`: an explore spread over a Slurm cluster. A job array whose task i runs
// the user's explore command as shard i/K into DIR/shard-i, and a job that merges the shards
// into DIR/merged once the array has ended (docs/explore.md "On a Slurm cluster").
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "tools/run/slurm_scripts.hpp"

namespace vcpusim::tools {

struct ExploreSlurm {
  std::string self;      // absolute path of the vcpusim binary the jobs run
  std::string workdir;   // absolute; where the jobs run (where explore slurm ran)
  std::string dir;       // absolute; DIR/slurm, DIR/shard-I, DIR/merged
  std::string scenario;  // as the user gave it (relative to workdir)
  // The user's explore options, each one word ("--strategy=pct", "--set=PATH=VALUE",
  // "--plugin=FILE", "--allow-plugins"); a repeated option's values in the user's order.
  std::vector<std::string> options;
  std::size_t array_size = 1;
  std::size_t cpus_per_task = 1;  // each task's -j
  std::string partition, time;
};

// The job array and merge job of `e` (every input word shell-quoted), for write_slurm_job_array.
SlurmJobArray explore_job_array(const ExploreSlurm& e);

// Throws boost::program_options::error for usage errors and sim::ConfigError for bad input.
int cmd_explore_slurm(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
