#include "tools/sweep/slurm.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "tools/sweep/sweep_results.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;

// Inside single quotes sh reads every byte (newline included) literally until the next single
// quote, which is written '\''. Bare words: only characters no shell expands ('=' first is
// zsh's command-path expansion, so it is quoted too).
std::string shell_quote(const std::string& s) {
  if (!s.empty() && s[0] != '=' &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789_-./=:@%+,") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {
// #SBATCH lines are read by sbatch, not sh: values there cannot be quoted, so they must not
// need it (a newline would start a shell command line; sweep_cli refuses such values first).
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

void header(std::ostringstream& o, const SlurmOptions& opt, const std::string& job,
            const std::string& log) {
  o << "#!/bin/sh\n";
  sbatch_option(o, "job-name", job);
  if (!opt.partition.empty()) sbatch_option(o, "partition", opt.partition);
  if (!opt.time.empty()) sbatch_option(o, "time", opt.time);
  o << "# output: " << log << " (given on the sbatch command line in submit.sh, quoted)\n";
}
}  // namespace

std::string write_slurm_scripts(const SlurmOptions& opt) {
  const fs::path slurm = fs::path(opt.dir) / "slurm";
  fs::create_directories(slurm);
  const std::string k = std::to_string(opt.array_size);
  const std::string shards = (fs::path(opt.dir) / "shards").string();

  std::ostringstream shard;
  header(shard, opt, "vcpusim-sweep", "slurm/shard-%a.out");
  sbatch_option(shard, "array", "0-" + std::to_string(opt.array_size - 1));
  sbatch_option(shard, "cpus-per-task", std::to_string(opt.cpus_per_task));
  shard << "# Task i runs shard i/" << k << " of the sweep; rerunning a task resumes it.\n"
        << "set -eu\n"
        << "i=\"$SLURM_ARRAY_TASK_ID\"\n"
        << "exec " << shell_quote(opt.self) << " sweep " << shell_quote(opt.spec)
        << " -j \"${SLURM_CPUS_PER_TASK:-1}\" -o " << shell_quote(shards) << "/\"$i\" --shard \"$i/"
        << k << "\"\n";
  write_file_durably((slurm / "shard.sbatch").string(), shard.str());

  std::ostringstream merge;
  header(merge, opt, "vcpusim-sweep-merge", "slurm/merge.out");
  merge << "# Runs after every array task has ended (afterany: a failed shard shows as missing\n"
        << "# runs and exit status 1, never as a silently smaller sweep).\n"
        << "set -eu\n"
        << "exec " << shell_quote(opt.self) << " sweep merge -o " << shell_quote(opt.dir);
  for (std::size_t i = 0; i < opt.array_size; ++i)
    merge << " " << shell_quote(shards + "/" + std::to_string(i));
  merge << "\n";
  write_file_durably((slurm / "merge.sbatch").string(), merge.str());

  const std::string s = shell_quote(slurm.string());
  const std::string logs = shell_quote(sbatch_path(slurm.string()));
  std::ostringstream submit;
  submit
      << "#!/bin/sh\n"
      << "# Submits the shard array and the merge job that depends on it; prints their job ids.\n"
      << "# Extra arguments go to the merge job's sbatch (e.g. --wait to block until it ends).\n"
      << "set -eu\n"
      << "array=$(sbatch --parsable --chdir=" << shell_quote(opt.dir) << " --output=" << logs
      << "/shard-%a.out " << s << "/shard.sbatch)\n"
      << "array=${array%%;*}\n"
      << "echo \"shard array job $array\"\n"
      << "sbatch --parsable --chdir=" << shell_quote(opt.dir) << " --output=" << logs
      << "/merge.out --dependency=afterany:\"$array\" \"$@\" " << s << "/merge.sbatch\n";
  const std::string path = (slurm / "submit.sh").string();
  write_file_durably(path, submit.str());
  ::chmod(path.c_str(), 0755);
  return path;
}

}  // namespace vcpusim::tools
