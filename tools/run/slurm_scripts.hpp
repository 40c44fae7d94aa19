// A Slurm job array whose task i runs shard i of K, a job that merges the shards once the array
// has ended, and a submit script chaining the two (sweep slurm, explore slurm). The commands are
// the caller's; every input word in them must already be shell_quote'd.
#pragma once
#include <cstddef>
#include <string>

namespace vcpusim::tools {

struct SlurmJobArray {
  std::string dir;       // absolute; the scripts and the jobs' logs go to DIR/slurm
  std::string workdir;   // absolute; the jobs' working directory (sbatch --chdir)
  std::string job_name;  // the array's; the merge job is job_name + "-merge"
  std::size_t array_size = 1;
  std::size_t cpus_per_task = 1;
  std::string partition, time;  // #SBATCH values (refused unless [A-Za-z0-9_:,.-]); may be empty
  // Each a "# ..." comment line (or lines) and the sh command. The task's command runs after
  // `set -eu` and `i="$SLURM_ARRAY_TASK_ID"`; the merge's after `set -eu`.
  std::string task_comment, task_command;
  std::string merge_comment, merge_command;
};

// Writes DIR/slurm/{shard.sbatch, merge.sbatch, submit.sh}; returns the submit script's path.
// Throws sim::ConfigError for a value a #SBATCH line cannot hold, or when a file cannot be
// written.
std::string write_slurm_job_array(const SlurmJobArray& jobs);

}  // namespace vcpusim::tools
