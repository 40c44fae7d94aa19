#include "tools/explore/explore_slurm.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <optional>

#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/explore/explore_options.hpp"
#include "tools/run/output_dir.hpp"
#include "tools/run/plugin_options.hpp"
#include "tools/run/self_executable.hpp"
#include "tools/run/shell_quote.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {
namespace fs = std::filesystem;

namespace {

// The options a task passes on as the user gave them; the rest are explore slurm's own or
// refused. One word each (--name=VALUE), so that no value can be read as another option.
const char* const kForwarded[] = {"strategy", "schedules", "explore-seed",  "prefix-reuse",
                                  "set",      "plugin",    "allow-plugins", "plugin-watchdog"};

std::vector<std::string> forwarded_options(const po::options_description& opts,
                                           const po::variables_map& vm) {
  std::vector<std::string> out;
  for (const char* name : kForwarded) {
    if (!vm.count(name) || vm[name].defaulted()) continue;
    const std::string option = std::string("--") + name;
    const boost::any& v = vm[name].value();
    if (opts.find(name, false).semantic()->max_tokens() == 0)
      out.push_back(option);  // a flag
    else if (const auto* many = boost::any_cast<std::vector<std::string>>(&v))
      for (const std::string& each : *many) out.push_back(option + "=" + each);
    else
      out.push_back(option + "=" + boost::any_cast<std::string>(v));
  }
  return out;
}

// #SBATCH values cannot be quoted (tools/run/slurm_scripts.cpp): refused before anything is
// written.
std::string sbatch_value(const std::string& option, const std::string& v) {
  if (v.empty() || v.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789_-:,.") != std::string::npos)
    throw sim::ConfigError(option + " " + sim::quote(v) +
                           ": has characters a #SBATCH line cannot hold; allowed: letters, "
                           "digits and _ - : , .");
  return v;
}

}  // namespace

SlurmJobArray explore_job_array(const ExploreSlurm& e) {
  const std::string k = std::to_string(e.array_size);
  const std::string shard = (fs::path(e.dir) / "shard-").string();
  // A scenario path that starts with '-' would be read as an option.
  const std::string scenario = e.scenario.rfind('-', 0) == 0 ? "./" + e.scenario : e.scenario;
  SlurmJobArray jobs;
  jobs.dir = e.dir;
  jobs.workdir = e.workdir;
  jobs.job_name = "vcpusim-explore";
  jobs.array_size = e.array_size;
  jobs.cpus_per_task = e.cpus_per_task;
  jobs.partition = e.partition;
  jobs.time = e.time;
  jobs.task_comment = "# Task i runs shard i/" + k +
                      " of the explore (exit 1: it found a failure, as explore does).\n";
  jobs.task_command = "exec " + shell_quote(e.self) + " explore";
  for (const std::string& o : e.options) jobs.task_command += " " + shell_quote(o);
  jobs.task_command += " -j \"${SLURM_CPUS_PER_TASK:-1}\" --shard \"$i/" + k + "\" -o " +
                       shell_quote(shard) + "\"$i\" " + shell_quote(scenario) + "\n";
  jobs.merge_comment =
      "# Runs after every array task has ended (afterany: a shard that did not finish is named\n"
      "# by the merge, exit 2, never a smaller explore). Exit 1: a failure was found.\n";
  jobs.merge_command = "exec " + shell_quote(e.self) + " explore merge -o " +
                       shell_quote((fs::path(e.dir) / "merged").string());
  for (std::size_t i = 0; i < e.array_size; ++i)
    jobs.merge_command += " " + shell_quote(shard + std::to_string(i));
  jobs.merge_command += "\n";
  return jobs;
}

int cmd_explore_slurm(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim explore slurm SCENARIO -o DIR [--array-size K] [--cpus-per-task C]\n"
      "                              [--partition P] [--time T] [explore options]\n\n"
      "Writes the Slurm scripts of an explore spread over K array tasks: DIR/slurm/shard.sbatch\n"
      "(task i runs `vcpusim explore SCENARIO ... --shard i/K -j C -o DIR/shard-i` with the\n"
      "explore options given here, from this working directory), DIR/slurm/merge.sbatch (after\n"
      "the array: `vcpusim explore merge -o DIR/merged DIR/shard-0 ...`) and DIR/slurm/submit.sh\n"
      "(submits both). Submit with: sh DIR/slurm/submit.sh. The scenario is loaded here first\n"
      "(bad input fails now, not on the cluster); --first, --max-wall, --shard and -j are\n"
      "refused (docs/explore.md \"On a Slurm cluster\"). DIR must be new, empty, or one explore\n"
      "slurm wrote (it holds .vcpusim-explore-slurm).\n\noptions");
  opts.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                 "the directory of the scripts, shards and merge")(
      "array-size", po::value<std::string>()->default_value("10"),
      "K, the number of shards (at most the --schedules budget)")(
      "cpus-per-task", po::value<std::string>()->default_value("1"),
      "CPUs of each array task (its explore -j), 1 to 256")("partition", po::value<std::string>(),
                                                            "Slurm partition")(
      "time", po::value<std::string>(), "time limit of each task, e.g. 1:00:00");
  add_search_options(opts, true);
  opts.add_options()("shard", po::value<std::string>(), "refused: each task is a shard");
  add_plugin_options(opts);
  const auto vm = cli::parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("file")) throw po::error("explore slurm needs a SCENARIO file");
  if (!vm.count("output")) throw po::error("explore slurm needs -o DIR");
  if (vm.count("shard"))
    throw sim::ConfigError(
        "--shard with explore slurm: task i of the array is shard i/K; "
        "allowed: --array-size K");
  if (vm.count("jobs"))
    throw sim::ConfigError(
        "-j with explore slurm: each task's -j is its CPUs; allowed: "
        "--cpus-per-task C");
  const ExploreOptions o = search_options(vm);
  refuse_local_budgets(o, "explore slurm");
  ExploreSlurm e;
  e.array_size = cli::integer("--array-size", vm["array-size"].as<std::string>(), 1, 1000000);
  e.cpus_per_task = cli::integer("--cpus-per-task", vm["cpus-per-task"].as<std::string>(), 1, 256);
  if (vm.count("partition"))
    e.partition = sbatch_value("--partition", vm["partition"].as<std::string>());
  if (vm.count("time")) e.time = sbatch_value("--time", vm["time"].as<std::string>());
  // The scenario with its overrides and plugins, as each task will load it: bad input fails here.
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  e.scenario = vm["file"].as<std::string>();
  const LoadedScenario loaded =
      load_with_plugins(PluginPermission::of(vm), e.scenario, sets, std::nullopt);
  cli::print_warnings(loaded.scenario->warnings);
  e.self = self_executable();
  e.workdir = fs::current_path().string();
  e.dir = fs::absolute(vm["output"].as<std::string>()).lexically_normal().string();
  e.options = forwarded_options(opts, vm);
  // More shards than schedules would only repeat schedule 0.
  if (e.array_size > o.schedules) e.array_size = o.schedules;
  OutputDir out("-o", e.dir, "explore-slurm");
  const std::string submit = write_slurm_job_array(explore_job_array(e));
  out.committed([](const std::string&) { return false; }, {});
  std::cout << "wrote " << sim::printable(e.dir)
            << "/slurm/{shard.sbatch,merge.sbatch,submit.sh}: " << o.schedules << " schedules ("
            << o.strategy << ") in " << e.array_size << " array tasks\nsubmit with: sh "
            << sim::printable(shell_quote(submit)) << "\nmerged explore: " << sim::printable(e.dir)
            << "/merged\n";
  return 0;
}

}  // namespace vcpusim::tools
