#include "tools/run/slurm_scripts.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/run/durable_file.hpp"
#include "tools/run/shell_quote.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;

namespace {
// #SBATCH lines are read by sbatch, not sh: values there cannot be quoted, so they must not
// need it (a newline would start a shell command line; the commands refuse such values first).
void sbatch_option(std::ostringstream& o, const std::string& name, const std::string& value) {
  if (value.empty() ||
      value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789_-:,.") != std::string::npos)
    throw sim::ConfigError("--" + name + " " + sim::quote(value) +
                           " has characters a #SBATCH line cannot hold");
  o << "#SBATCH --" << name << "=" << value << "\n";
}

// sbatch replaces %a, %j, ... in --output; a '%' of the directory's own is written %%.
std::string sbatch_path(const std::string& path) {
  std::string out;
  for (char c : path) out += c == '%' ? std::string("%%") : std::string(1, c);
  return out;
}

void header(std::ostringstream& o, const SlurmJobArray& opt, const std::string& job,
            const std::string& log) {
  o << "#!/bin/sh\n";
  sbatch_option(o, "job-name", job);
  if (!opt.partition.empty()) sbatch_option(o, "partition", opt.partition);
  if (!opt.time.empty()) sbatch_option(o, "time", opt.time);
  o << "# output: " << log << " (given on the sbatch command line in submit.sh, quoted)\n";
}
}  // namespace

std::string write_slurm_job_array(const SlurmJobArray& opt) {
  const fs::path slurm = fs::path(opt.dir) / "slurm";
  fs::create_directories(slurm);

  std::ostringstream shard;
  header(shard, opt, opt.job_name, "slurm/shard-%a.out");
  sbatch_option(shard, "array", "0-" + std::to_string(opt.array_size - 1));
  sbatch_option(shard, "cpus-per-task", std::to_string(opt.cpus_per_task));
  shard << opt.task_comment << "set -eu\n"
        << "i=\"$SLURM_ARRAY_TASK_ID\"\n"
        << opt.task_command;
  write_file_durably((slurm / "shard.sbatch").string(), shard.str());

  std::ostringstream merge;
  header(merge, opt, opt.job_name + "-merge", "slurm/merge.out");
  merge << opt.merge_comment << "set -eu\n" << opt.merge_command;
  write_file_durably((slurm / "merge.sbatch").string(), merge.str());

  const std::string s = shell_quote(slurm.string());
  const std::string logs = shell_quote(sbatch_path(slurm.string()));
  const std::string chdir = shell_quote(opt.workdir);
  std::ostringstream submit;
  submit
      << "#!/bin/sh\n"
      << "# Submits the shard array and the merge job that depends on it; prints their job ids.\n"
      << "# Extra arguments go to the merge job's sbatch (e.g. --wait to block until it ends).\n"
      << "set -eu\n"
      << "array=$(sbatch --parsable --chdir=" << chdir << " --output=" << logs << "/shard-%a.out "
      << s << "/shard.sbatch)\n"
      << "array=${array%%;*}\n"
      << "echo \"shard array job $array\"\n"
      << "sbatch --parsable --chdir=" << chdir << " --output=" << logs
      << "/merge.out --dependency=afterany:\"$array\" \"$@\" " << s << "/merge.sbatch\n";
  const std::string path = (slurm / "submit.sh").string();
  write_file_durably(path, submit.str());
  ::chmod(path.c_str(), 0755);
  return path;
}

}  // namespace vcpusim::tools
