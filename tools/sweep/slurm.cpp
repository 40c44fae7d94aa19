#include "tools/sweep/slurm.hpp"

#include <filesystem>

#include "tools/run/slurm_scripts.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;

std::string write_slurm_scripts(const SlurmOptions& opt) {
  const std::string k = std::to_string(opt.array_size);
  const std::string shards = (fs::path(opt.dir) / "shards").string();
  SlurmJobArray jobs;
  jobs.dir = opt.dir;
  jobs.workdir = opt.dir;
  jobs.job_name = "vcpusim-sweep";
  jobs.array_size = opt.array_size;
  jobs.cpus_per_task = opt.cpus_per_task;
  jobs.partition = opt.partition;
  jobs.time = opt.time;
  jobs.task_comment =
      "# Task i runs shard i/" + k + " of the sweep; rerunning a task resumes it.\n";
  jobs.task_command = "exec " + shell_quote(opt.self) + " sweep " + shell_quote(opt.spec) +
                      " -j \"${SLURM_CPUS_PER_TASK:-1}\" -o " + shell_quote(shards) +
                      "/\"$i\" --shard \"$i/" + k + "\"\n";
  jobs.merge_comment =
      "# Runs after every array task has ended (afterany: a failed shard shows as missing\n"
      "# runs and exit status 1, never as a silently smaller sweep).\n";
  jobs.merge_command = "exec " + shell_quote(opt.self) + " sweep merge -o " + shell_quote(opt.dir);
  for (std::size_t i = 0; i < opt.array_size; ++i)
    jobs.merge_command += " " + shell_quote(shards + "/" + std::to_string(i));
  jobs.merge_command += "\n";
  return write_slurm_job_array(jobs);
}

}  // namespace vcpusim::tools
