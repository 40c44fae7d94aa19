#include "tools/sweep/sweep_cli.hpp"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/run/self_executable.hpp"
#include "tools/sweep/slurm.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_dry_run.hpp"
#include "tools/sweep/sweep_runner.hpp"
#include "tools/sweep/sweep_spec.hpp"

namespace vcpusim::tools {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::size_t parse_count(const std::string& option, const std::string& text, std::size_t hi) {
  std::size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < 1 || v > hi || text.empty() || text[0] == '-')
    throw po::error(option + " " + text + " is not a number from 1 to " + std::to_string(hi));
  return v;
}

int cmd_run_sweep(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim sweep SPEC [-j N] -o DIR [--shard I/N] [--max-run-wall T]\n"
      "       vcpusim sweep SPEC --dry-run [-o DIR]\n"
      "       vcpusim sweep merge [-o OUT] DIR...\n"
      "       vcpusim sweep slurm SPEC -o DIR [--array-size K] [--partition P] [--time T]\n"
      "       vcpusim sweep schema\n\n"
      "Runs every point x seed of the sweep spec SPEC (scenarios/sweeps/*.json) as its own\n"
      "`vcpusim run` process, N at a time, and writes DIR/runs.csv (one row per run, in point "
      "then\n"
      "seed order), DIR/summary.csv (per point: mean with 95% interval, p50, p99, max of each\n"
      "metric; violation probability with its Wilson 95% interval), DIR/timings.csv (wall time\n"
      "per run), DIR/plots/*.svg (gnuplot), DIR/index.html and DIR/sweep.json (the resolved "
      "spec).\n"
      "Running again into DIR resumes: finished runs are kept, the rest run. ^C stops cleanly.\n"
      "A spec that adds points or seeds grows DIR's sweep: only the new runs run (each run's id\n"
      "is its point's key and its seed); a spec whose scenario, run_budget or an existing point's\n"
      "overrides changed is refused. --dry-run prints the plan (run ids; which DIR holds).\n"
      "DIR must be new, empty, or a sweep's (it holds the .vcpusim-sweep marker): a sweep never\n"
      "writes into a directory of other files. A run stops after the spec's run_budget steps\n"
      "(a budget-exceeded row, the same every time).\n"
      "Exit 0 when every run has a row (failed runs are rows too), 1 when runs were killed by\n"
      "--max-run-wall (not recorded), 130 when interrupted, 2 for bad input.\n\noptions");
  opts.add_options()("help,h", "show this help")("jobs,j", po::value<std::string>(),
                                                 "runs at a time (default: one per core)")(
      "output,o", po::value<std::string>(),
      "the sweep directory (created; resumed or grown if it exists)")(
      "dry-run", "print the points x seeds plan (run ids, which DIR holds) and run nothing")(
      "shard", po::value<std::string>(),
      "I/N: run only runs whose index is I modulo N (0 <= I < N), e.g. on a cluster")(
      "max-run-wall", po::value<std::string>(),
      "safety net: kill a run still going after this wall time, e.g. 600s (default 3600s); it "
      "is not recorded and the sweep ends incomplete (exit 1)");
  const auto vm = cli::parse(args, opts, "spec", 1);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("spec")) throw po::error("sweep needs a SPEC file");
  if (vm.count("dry-run")) {
    for (const char* other : {"jobs", "shard", "max-run-wall"})
      if (vm.count(other))
        throw po::error(std::string("--dry-run runs nothing: --") + other + " does not apply");
    const SweepSpec spec = SweepSpec::load(vm["spec"].as<std::string>());
    cli::print_warnings(spec.warnings);
    return dry_run_sweep(spec, vm.count("output") ? vm["output"].as<std::string>() : "", std::cout);
  }
  if (!vm.count("output")) throw po::error("sweep needs -o DIR");
  SweepOptions o;
  o.dir = vm["output"].as<std::string>();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  o.jobs = vm.count("jobs") ? parse_count("-j", vm["jobs"].as<std::string>(), 1024) : cores;
  if (vm.count("shard")) {
    const std::string s = vm["shard"].as<std::string>();
    const auto slash = s.find('/');
    if (slash == std::string::npos) throw po::error("--shard " + s + " is not I/N");
    o.shards = parse_count("--shard N", s.substr(slash + 1), 1000000);
    const std::string i = s.substr(0, slash);
    if (i.empty() || i.find_first_not_of("0123456789") != std::string::npos || i.size() > 9 ||
        std::stoul(i) >= o.shards)
      throw po::error("--shard " + s + ": I must be from 0 to N-1");
    o.shard = std::stoul(i);
  }
  if (vm.count("max-run-wall")) {
    const std::string t = vm["max-run-wall"].as<std::string>();
    const auto wall = sim::parse_duration(t);
    if (!wall || *wall < sim::kMillisecond)
      throw sim::ConfigError("--max-run-wall " + sim::quote(t) +
                             ": is not a duration; allowed: a duration of 1ms or more, e.g. 600s");
    o.max_run_wall = *wall;
  }
  o.self = self_executable();
  o.terminal = ::isatty(2);
  const SweepSpec spec = SweepSpec::load(vm["spec"].as<std::string>());
  cli::print_warnings(spec.warnings);
  std::cout << model_warning_lines(spec.resolved()) << std::flush;
  return run_sweep(spec, o);
}

int cmd_merge(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim sweep merge [-o OUT] DIR...\n\n"
      "Combines the shard directories DIR... of one sweep (from --shard) into OUT (default: the\n"
      "first DIR): the same runs.csv, summary.csv, plots and index.html as a local run. Every\n"
      "record is checked (its checksum, and that its run, point and seed are the sweep's). Exit 1\n"
      "when runs are missing (named), 2 for a damaged record or shard.\n\noptions");
  opts.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                 "the merged sweep directory");
  const auto vm = cli::parse(args, opts, "dirs", -1);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("dirs")) throw po::error("merge needs at least one shard DIR");
  const auto dirs = vm["dirs"].as<std::vector<std::string>>();
  return merge_sweeps(dirs, vm.count("output") ? vm["output"].as<std::string>() : dirs.front());
}

int cmd_slurm(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim sweep slurm SPEC -o DIR [--array-size K] [--partition P] [--time T]\n"
      "                           [--cpus-per-task C]\n\n"
      "Writes DIR/slurm/shard.sbatch (a job array: task i runs shard i/K into DIR/shards/i),\n"
      "DIR/slurm/merge.sbatch (merges the shards into DIR) and DIR/slurm/submit.sh (submits the\n"
      "array and the merge job, which depends on it). Submit with: sh DIR/slurm/submit.sh\n\n"
      "options");
  opts.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                 "the sweep directory")(
      "array-size", po::value<std::string>()->default_value("10"), "K, the number of shards")(
      "cpus-per-task", po::value<std::string>()->default_value("1"),
      "CPUs of each array task (its -j)")("partition", po::value<std::string>(), "Slurm partition")(
      "time", po::value<std::string>(), "time limit of each task, e.g. 1:00:00");
  const auto vm = cli::parse(args, opts, "spec", 1);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("spec")) throw po::error("slurm needs a SPEC file");
  if (!vm.count("output")) throw po::error("slurm needs -o DIR");
  const std::string spec_file = vm["spec"].as<std::string>();
  const SweepSpec spec = SweepSpec::load(spec_file);  // bad specs fail here, not on the cluster
  cli::print_warnings(spec.warnings);
  SlurmOptions o;
  o.self = self_executable();
  o.spec = fs::absolute(spec_file).lexically_normal().string();
  o.dir = fs::absolute(vm["output"].as<std::string>()).lexically_normal().string();
  o.array_size = parse_count("--array-size", vm["array-size"].as<std::string>(), 100000);
  o.cpus_per_task = parse_count("--cpus-per-task", vm["cpus-per-task"].as<std::string>(), 1024);
  auto plain = [](const std::string& option, const std::string& v) {
    if (v.empty() || v.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-:,.") != std::string::npos)
      throw po::error(option + " '" + v + "' has characters a #SBATCH line cannot hold");
    return v;
  };
  if (vm.count("partition")) o.partition = plain("--partition", vm["partition"].as<std::string>());
  if (vm.count("time")) o.time = plain("--time", vm["time"].as<std::string>());
  const std::size_t runs = spec.points.size() * spec.seeds.size();
  if (o.array_size > runs) o.array_size = runs;
  // DIR gets the scripts, the shards and the merged sweep: a sweep directory.
  claim_sweep_dir(o.dir, {spec.file, spec.scenario});
  const std::string submit = write_slurm_scripts(o);
  std::cout << "wrote " << sim::printable(o.dir)
            << "/slurm/{shard.sbatch,merge.sbatch,submit.sh}: " << runs << " runs in "
            << o.array_size << " array tasks\nsubmit with: sh "
            << sim::printable(shell_quote(submit)) << "\n";
  return 0;
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "merge") return cmd_merge({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "slurm") return cmd_slurm({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "schema") {
    if (args.size() > 1 && (args[1] == "--help" || args[1] == "-h")) {
      std::cout << "usage: vcpusim sweep schema\n\nPrints the JSON Schema of sweep specs.\n";
      return 0;
    }
    if (args.size() > 1) throw po::error("sweep schema takes no arguments");
    std::cout << SweepSpec::schema().dump(2) << "\n";
    return 0;
  }
  return cmd_run_sweep(args);
}

}  // namespace vcpusim::tools
