#include "tools/explore/explore_cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/explore/explore.hpp"
#include "tools/explore/explore_merge.hpp"
#include "tools/explore/explore_options.hpp"
#include "tools/explore/explore_slurm.hpp"
#include "tools/run/output_dir.hpp"
#include "tools/run/output_files.hpp"
#include "tools/run/plugin_options.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {
namespace {

// The replay file of the k-th signature in -o DIR, and the test for that name.
std::string replay_name(std::size_t k) {
  return "failure-" + std::to_string(k) + ".replay.json";
}

bool is_replay_name(const std::string& name) {
  const std::string head = "failure-", tail = ".replay.json";
  if (name.size() <= head.size() + tail.size() || name.rfind(head, 0) != 0 ||
      name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
    return false;
  const std::string k = name.substr(head.size(), name.size() - head.size() - tail.size());
  return std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the schedules covered: windows of the scenario's own run, and those a preemption landed
// inside. `detail`: per window (when nothing failed, so "no failure" says what it means).
void print_coverage(std::ostream& out, const ExploreReport& r, bool detail) {
  std::size_t aimed_hit = 0, hit = 0;
  for (const auto& [name, passes] : r.windows_seen) {
    const bool was_hit = r.windows_hit.count(name) > 0;
    hit += was_hit;
    aimed_hit += was_hit && std::binary_search(r.aimed.begin(), r.aimed.end(), name);
  }
  out << "  windows in the scenario's own run: " << r.windows_seen.size()
      << ", hit by a preemption: " << hit << "\n";
  if (r.aimed.empty())
    out << "  aimed at every window"
        << (r.targets.empty() ? "" : " (no window matched the targets)") << "\n";
  else
    out << "  aimed at " << r.aimed.size() << " window(s) matching the targets, " << aimed_hit
        << " hit\n";
  if (!r.overlaps.empty())
    out << "  overlaps aimed at (two windows about one object open on two vCPUs at once / "
           "instances in the scenario's run):\n";
  for (const auto& [name, n] : r.overlaps)
    out << "    " << sim::printable(name.substr(name.find(' ') + 1)) << ": " << n << "\n";
  if (!detail) return;
  out << "  windows (passes in the scenario's run / schedules that preempted inside):\n";
  constexpr std::size_t kShown = 30;
  std::size_t shown = 0;
  for (const auto& [name, passes] : r.windows_seen) {
    const bool aimed = r.aimed.empty() || std::binary_search(r.aimed.begin(), r.aimed.end(), name);
    if (!aimed) continue;
    if (shown++ == kShown) break;
    const auto it = r.windows_hit.find(name);
    out << "    " << sim::printable(name) << ": " << passes << " / "
        << (it == r.windows_hit.end() ? 0 : it->second) << "\n";
  }
  const std::size_t total = r.aimed.empty() ? r.windows_seen.size() : r.aimed.size();
  if (total > kShown) out << "    ... " << total - kShown << " more in explore.json (-o)\n";
}

// Writes DIR/explore.json (`report`, plus `shard` when given) and one replay file per failure
// (`replays`, in report order), then drops an earlier explore's replay files beyond them.
void write_explore_dir(OutputDir& dir, OutputFiles& outputs, const ExploreReport& report,
                       const std::vector<std::string>& replays, const sim::Json* shard) {
  std::vector<std::string> written = {"explore.json"};
  for (std::size_t i = 0; i < replays.size(); ++i) {
    written.push_back(replay_name(i + 1));
    const std::string path = dir.file(written.back());
    outputs.declare("-o", path);
    outputs.write(path, [&](std::ostream& out) { out << replays[i]; });
  }
  sim::Json doc = report.to_json();
  if (shard) doc["shard"] = *shard;
  outputs.write(dir.file("explore.json"), [&](std::ostream& out) { out << doc.dump(2) << "\n"; });
  outputs.commit();
  // An earlier explore's failure-K files beyond this one's K would pass for its findings.
  dir.committed(is_replay_name, written);
}

void print_failures(std::ostream& out, const ExploreReport& report, const OutputDir* dir) {
  if (report.first_failure >= 0)
    out << "  first failure: schedule " << report.first_failure << " (" << report.first_failure + 1
        << " schedules to the first failure)\n";
  else
    out << "  no failure found\n";
  if (report.strategy == "cover") out << "  interleavings reached: " << report.coverage << "\n";
  print_coverage(out, report, report.first_failure < 0);
  for (std::size_t i = 0; i < report.failures.size(); ++i) {
    const FoundFailure& f = report.failures[i];
    out << "  " << sim::printable(f.failure.signature) << "\n    " << f.schedules
        << " schedule(s), first #" << f.first_schedule << ": " << sim::printable(f.failure.message);
    if (dir) out << "\n    replay: " << dir->file(replay_name(i + 1));
    out << "\n";
  }
}

// `explore merge -o OUT DIR...` (tools/explore/explore_merge.hpp).
int cmd_explore_merge(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim explore merge -o OUT DIR...\n\n"
      "Merges the -o directories of the shards of one explore (explore --shard I/N, I = 0..N-1)\n"
      "into OUT: explore.json and one replay file per failure signature, in the order of their\n"
      "first schedules. For pct, random and seeds this is what one local explore of the same\n"
      "budget writes, byte for byte; window and cover learn within each shard\n"
      "(docs/explore.md \"Shards\"). Exit 1 when a failure was found, 0 when none, 2 bad input.\n"
      "\noptions");
  opts.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                 "the merged directory (as explore -o DIR)")(
      "dirs", po::value<std::vector<std::string>>(), "shard directories");
  po::positional_options_description pos;
  pos.add("dirs", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("dirs")) throw po::error("explore merge needs the shard directories");
  if (!vm.count("output")) throw po::error("explore merge needs -o OUT");
  const auto dirs = vm["dirs"].as<std::vector<std::string>>();
  const MergedExplore merged = merge_explore_shards(dirs);
  OutputDir out_dir("-o", vm["output"].as<std::string>(), "explore");
  OutputFiles outputs(dirs);
  outputs.declare("-o", out_dir.file("explore.json"));
  write_explore_dir(out_dir, outputs, merged.report, merged.replays, nullptr);
  std::cout << "explore merge: " << dirs.size() << " shards, strategy " << merged.report.strategy
            << ", " << merged.report.schedules << " schedules\n";
  print_failures(std::cout, merged.report, &out_dir);
  return merged.report.failures.empty() ? 0 : 1;
}

}  // namespace

std::string schedules_per_second(double n, double seconds) {
  if (seconds <= 0) return "-";
  const double r = n / seconds;
  char buf[64];
  std::snprintf(buf, sizeof buf, r >= 10 ? "%.0f" : "%.2g", r);
  return buf;
}

int cmd_explore(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim explore SCENARIO [--strategy window|pct|random|cover|seeds]\n"
      "                        [--schedules N]\n"
      "                        [--max-wall T] [--first] [-j N] [--explore-seed N]\n"
      "                        [--prefix-reuse auto|always|never]\n"
      "                        [--set PATH=VALUE]... [-o DIR] [--shard I/N] [--quiet]\n"
      "                        [--plugin FILE.so]... [--allow-plugins]\n"
      "       vcpusim explore merge -o OUT DIR...\n"
      "       vcpusim explore slurm SCENARIO -o DIR [--array-size K] [--partition P]\n"
      "                             [--time T] [--cpus-per-task C] [explore options]\n\n"
      "Runs many host schedules of SCENARIO (schedule 0 is the scenario's own run), each a set\n"
      "of decisions drawn by a strategy: window (the default) places a few preemption points\n"
      "inside the windows of the scenario's own run where a preemption can matter (a vCPU\n"
      "between two writes to shared words, between a read and a write, in a lock slow path,\n"
      "a critical section, a seqcount write, the timekeeping update, an RCU read section, an\n"
      "mmu notifier walk) and at the moments two windows about one object are open on two\n"
      "vCPUs at once, every window as likely as any other, aimed at the checks in play\n"
      "(explore.targets);\n"
      "pct places them at uniformly chosen shared-memory accesses; random takes every\n"
      "decision uniformly\n"
      "within its range and preempts at uniform times; cover mutates the schedules that reached\n"
      "a new interleaving, a newly hit window or a new failure; seeds is the baseline, plain\n"
      "runs\n"
      "with seeds seed, seed+1, ... The scenario's \"explore\" section says which vCPUs may be\n"
      "preempted or sent NMIs, how often and how long. Failures are grouped by signature (check\n"
      "and where); with -o, one replay file per signature (vcpusim run --replay, vcpusim shrink)\n"
      "and explore.json. The same command finds the same failures in the same order, whatever\n"
      "-j. --shard I/N runs the schedules whose index is I modulo N, for a cluster; explore\n"
      "merge joins the shards' directories (docs/explore.md \"Shards\"); explore slurm writes\n"
      "a Slurm job array of the shards and a merge job after it.\n"
      "Exit 1 when a failure was found, 0 when none, 2 bad input, 3 simulation error.\n"
      "C guest code (docs/c-guest-code.md) loads as for run; each replay file records the\n"
      "plugins' paths and content hashes.\n"
      "\noptions");
  opts.add_options()("help,h", "show this help");
  add_search_options(opts);
  opts.add_options()(
      "output,o", po::value<std::string>(),
      "directory for explore.json and the replay files: a new or empty one, or an earlier "
      "explore's (it holds .vcpusim-explore)")(
      "shard", po::value<std::string>(),
      "I/N: run shard I of N (0 <= I < N <= 10^6) into -o DIR, for explore merge")(
      "quiet,q", "print nothing on stdout (nor progress)");
  add_plugin_options(opts);
  if (!args.empty() && args[0] == "merge") return cmd_explore_merge({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "slurm") return cmd_explore_slurm({args.begin() + 1, args.end()});
  const auto vm = cli::parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("file")) throw po::error("explore needs a SCENARIO file");
  ExploreOptions o = search_options(vm);
  if (vm.count("shard")) {
    const std::string text = vm["shard"].as<std::string>();
    const std::size_t slash = text.find('/');
    if (slash == std::string::npos)
      throw sim::ConfigError("--shard " + sim::quote(text) + ": allowed: I/N, e.g. 2/8");
    o.shard_count = cli::integer("--shard", text.substr(slash + 1), 1, 1000000);
    o.shard_index = cli::integer("--shard", text.substr(0, slash), 0, o.shard_count - 1);
    refuse_local_budgets(o, "--shard");
    if (!vm.count("output"))
      throw sim::ConfigError("--shard needs -o DIR: explore merge reads the shards' directories");
  }
  const bool quiet = vm.count("quiet") > 0;
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  const std::string file = vm["file"].as<std::string>();
  const LoadedScenario loaded =
      load_with_plugins(PluginPermission::of(vm), file, sets, std::nullopt);
  const auto& scenario = loaded.scenario;
  o.plugins = recorded_plugins(*loaded.plugins);
  cli::print_warnings(scenario->warnings);
  // The directory is made (or checked and locked) only once the scenario is known to be good.
  std::optional<OutputDir> out_dir;
  OutputFiles outputs({file});
  if (vm.count("output")) {
    out_dir.emplace("-o", vm["output"].as<std::string>(), "explore");
    outputs.declare("-o", out_dir->file("explore.json"));
  }
  const bool terminal = !quiet && isatty(2);
  const auto started = std::chrono::steady_clock::now();
  if (terminal)
    o.progress = [&](std::uint64_t done, std::uint64_t failing) {
      constexpr std::uint64_t kWidth = 30;
      const std::uint64_t fill = std::min(kWidth, done * kWidth / o.schedules);
      const double spent =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const auto eta = static_cast<long long>(
          spent / static_cast<double>(std::max<std::uint64_t>(done, 1)) *
              static_cast<double>(o.schedules - std::min(done, o.schedules)) +
          0.5);
      std::cerr << "\r\033[K[" << std::string(fill, '#') << std::string(kWidth - fill, '.') << "] "
                << done << "/" << o.schedules << " schedules (" << o.strategy << "), " << failing
                << " failing, ETA " << eta << "s" << std::flush;
    };
  const ExploreReport report = explore(*scenario, o);
  if (terminal) std::cerr << "\r\033[K" << std::flush;
  if (out_dir) {
    std::vector<std::string> replays;
    for (const FoundFailure& f : report.failures)
      replays.push_back(f.replay.to_json().dump(2) + "\n");
    const sim::Json shard = shard_json(*scenario, o);
    write_explore_dir(*out_dir, outputs, report, replays, vm.count("shard") ? &shard : nullptr);
  }
  if (!quiet) {
    char wall[32];
    std::snprintf(wall, sizeof wall, "%.2f", report.wall_seconds);
    std::cout << "explore " << sim::printable(scenario->name) << ": strategy " << o.strategy << ", "
              << report.schedules << " schedules in " << wall << " s ("
              << schedules_per_second(static_cast<double>(report.schedules), report.wall_seconds)
              << " schedules/s with " << o.jobs << (o.jobs == 1 ? " process" : " processes")
              << (report.stopped_by_wall ? "; stopped by --max-wall" : "") << ")\n";
    std::cout << "  shared-memory accesses in the scenario's own run:";
    for (std::size_t v = 0; v < report.profile.size(); ++v)
      std::cout << " vCPU" << v << " " << report.profile[v];
    std::cout << "\n";
    print_failures(std::cout, report, out_dir ? &*out_dir : nullptr);
  }
  return report.failures.empty() ? 0 : 1;
}

}  // namespace vcpusim::tools
