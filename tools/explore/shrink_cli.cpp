#include "tools/explore/shrink_cli.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/run/output_files.hpp"
#include "tools/run/plugin_options.hpp"
#include "tools/explore/shrink.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {
namespace {

// "min.json" -> "min.passing.json"
std::string passing_path(const std::string& min) {
  const std::string ext = ".json";
  const bool json =
      min.size() > ext.size() && min.compare(min.size() - ext.size(), ext.size(), ext) == 0;
  return (json ? min.substr(0, min.size() - ext.size()) : min) + ".passing.json";
}

// The passing file is a name the user did not give: shrink replaces or removes only a regular
// file holding a replay an earlier shrink wrote there.
bool written_by_shrink(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  try {
    return ReplayFile::load(path).origin.rfind("shrink of ", 0) == 0;
  } catch (const sim::ConfigError&) {
    return false;
  }
}

}  // namespace

int cmd_shrink(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim shrink REPLAY -o MIN [--max-runs N] [--quiet]\n"
      "                      [--plugin FILE.so]... [--allow-plugins]\n\n"
      "Reduces a failing replay file (explore -o) to the smallest one that still fails with the\n"
      "same signature, by delta debugging: over the schedule (drop decisions, which then take\n"
      "their default draw, and injected host events; shorten each preemption; move each\n"
      "access-placed one to the earliest access that still fails) and over the scenario\n"
      "(shorter duration, fewer load tasks, workloads and vCPUs, halved workload counts). Writes\n"
      "MIN (vcpusim run --replay MIN repeats it byte for byte) and beside it the nearest passing\n"
      "run, MIN with one schedule item undone, as <MIN without .json>.passing.json (for\n"
      "vcpusim report --diff and timeline --diff), then prints what happened in kernel terms.\n"
      "Exit 0 when MIN was written, 2 for bad input (including a replay that does not fail as\n"
      "recorded), 3 for a simulation error. A replay of C guest code needs its plugins as for\n"
      "run --replay (--plugin with the recorded content hash, or --allow-plugins).\n\noptions");
  opts.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                 "the minimal replay file to write")(
      "max-runs", po::value<std::string>()->default_value("2000"),
      "most candidate runs (1 to 10^7); shrink stops there with the smallest failing one")(
      "quiet,q", "print nothing on stdout (nor progress)");
  add_plugin_options(opts);
  const auto vm = cli::parse(args, opts, "file", -1);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  const auto in = cli::values(vm, "file");
  if (in.size() != 1) throw po::error("shrink needs one REPLAY file");
  if (!vm.count("output")) throw po::error("shrink needs -o MIN.json");
  const std::string max_text = vm["max-runs"].as<std::string>();
  bool ok = !max_text.empty() && max_text.size() <= 8;
  for (char c : max_text) ok = ok && c >= '0' && c <= '9';
  const std::uint64_t max_runs = ok ? std::stoull(max_text) : 0;
  if (max_runs < 1 || max_runs > 10000000)
    throw sim::ConfigError("--max-runs " + sim::quote(max_text) +
                           ": allowed: an integer from 1 to 10000000");
  const std::string file = in.front(), min = vm["output"].as<std::string>();
  const std::string passing = passing_path(min);
  OutputFiles outputs({file});
  outputs.declare("-o", min);
  outputs.declare("-o (the passing run beside it)", passing);
  struct stat st {};
  if (::lstat(passing.c_str(), &st) == 0 && !written_by_shrink(passing))
    throw sim::ConfigError("-o (the passing run beside it) " + sim::quote(passing) +
                           ": exists and is not a replay vcpusim shrink wrote; allowed: a name "
                           "that does not exist yet (remove the file, or choose another -o)");
  const ReplayFile replay = ReplayFile::load(file);
  const auto plugins = load_replay_plugins(PluginPermission::of(vm), replay, file);
  const bool quiet = vm.count("quiet") > 0, terminal = !quiet && isatty(2);
  ShrinkOptions o;
  o.max_runs = max_runs;
  o.plugins = plugins.get();
  if (terminal)
    o.progress = [&](std::uint64_t runs, const ShrinkSize& size) {
      std::cerr << "\r\033[K[shrink] " << runs << "/" << max_runs << " runs, " << size.str()
                << std::flush;
    };
  const auto start = std::chrono::steady_clock::now();
  const ShrinkResult r = shrink(replay, file, o);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (terminal) std::cerr << "\r\033[K" << std::flush;
  outputs.write(min, [&](std::ostream& out) { out << r.min.to_json().dump(2) << "\n"; });
  if (r.passing)
    outputs.write(passing, [&](std::ostream& out) { out << r.passing->to_json().dump(2) << "\n"; });
  outputs.commit();
  // An earlier shrink's passing run would pass for the nearest passing run of this MIN.
  if (!r.passing && written_by_shrink(passing)) ::unlink(passing.c_str());
  if (!quiet) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", wall);
    std::cout << "shrink " << file << ": " << r.runs << " runs in " << secs << " s"
              << (r.budget_exhausted ? " (stopped by --max-runs)" : "") << "\n"
              << "  before: " << r.before.str() << "\n"
              << "  after:  " << r.after.str() << "\n"
              << "  failure: " << sim::printable(r.min.failure.signature) << "\n"
              << "  minimal replay: " << min << "\n";
    if (r.passing)
      std::cout << "  nearest passing run: " << passing << " (" << r.undone << " undone)\n";
    else
      std::cout << "  no nearest passing run: undoing any one schedule item still fails\n";
    std::cout << "what happened:\n";
    for (const std::string& line : r.explanation) std::cout << "  " << sim::printable(line) << "\n";
  }
  return 0;
}

}  // namespace vcpusim::tools
