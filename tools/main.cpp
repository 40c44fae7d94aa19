// The vcpusim command line: run, validate, schema.
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <systemc>
#include <vector>

#include "sim/error.hpp"
#include "tools/scenario.hpp"
#include "tools/simulation.hpp"
#include "tools/version.hpp"

namespace po = boost::program_options;
using namespace vcpusim;

namespace {

constexpr int kExitMet = 0;
constexpr int kExitNotMet = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSimError = 3;

const char* const kUsage =
    "usage: vcpusim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE       run a scenario; exit 0 if it met its expect block, 1 if not\n"
    "  validate FILE  check a scenario file without running it\n"
    "  schema         print the JSON Schema of the scenario format\n"
    "\n"
    "vcpusim <command> --help shows the options of a command.\n"
    "Exit status: 0 expectations met, 1 not met, 2 bad input or usage, 3 simulation error.\n";

// Writes through a temporary file and renames it, so a failure leaves no partial output.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw sim::ConfigError(path + ": cannot write the output file");
    out << text;
    if (!out.flush()) {
      std::remove(tmp.c_str());
      throw sim::ConfigError(path + ": cannot write the output file");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw sim::ConfigError(path + ": cannot write the output file");
  }
}

po::variables_map parse(const std::vector<std::string>& args,
                        const po::options_description& visible, const char* positional_name) {
  po::options_description all;
  all.add(visible);
  if (positional_name) all.add_options()(positional_name, po::value<std::string>(), "");
  po::positional_options_description pos;
  if (positional_name) pos.add(positional_name, 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim run FILE [--seed N] [--set PATH=VALUE]... [--json OUT] [--quiet]\n\n"
      "Runs the scenario in FILE and prints a summary. Exit 0 when the run met the scenario's\n"
      "expect block (or, without one, had no violation), 1 when not, 2 for bad input.\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "seed", po::value<std::uint64_t>(), "seed for every random host choice (overrides the file)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a scenario value, e.g. --set guest.timekeeping.variant=reanchor or "
      "--set host.load[0].busy=5ms (VALUE is JSON, or else a string)")(
      "json", po::value<std::string>(), "write the result JSON to this file")(
      "quiet,q", "print nothing on stdout");
  const auto vm = parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitMet;
  }
  if (!vm.count("file")) throw po::error("run needs a scenario FILE");
  std::optional<std::uint64_t> seed;
  if (vm.count("seed")) seed = vm["seed"].as<std::uint64_t>();
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  auto scenario = tools::Scenario::load(vm["file"].as<std::string>(), sets, seed);
  const tools::RunResult result = tools::run_scenario(*scenario);
  if (vm.count("json"))
    write_atomically(vm["json"].as<std::string>(), result.document.dump(2) + "\n");
  if (!vm.count("quiet")) std::cout << tools::summarize(*scenario, result);
  return result.expect_met ? kExitMet : kExitNotMet;
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim validate FILE [--set PATH=VALUE]... [--resolved]\n\n"
      "Checks FILE strictly (unknown keys, types, units, ranges) without running it.\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a value, as for run")(
      "resolved", "print the scenario with every default filled in");
  const auto vm = parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitMet;
  }
  if (!vm.count("file")) throw po::error("validate needs a scenario FILE");
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  auto scenario = tools::Scenario::load(vm["file"].as<std::string>(), sets);
  if (vm.count("resolved"))
    std::cout << scenario->resolved().dump(2) << "\n";
  else
    std::cout << scenario->file << ": valid scenario \"" << scenario->name << "\"\n";
  return kExitMet;
}

int cmd_schema(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim schema\n\nPrints the scenario JSON Schema.\n\noptions");
  opts.add_options()("help,h", "show this help");
  const auto vm = parse(args, opts, nullptr);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitMet;
  }
  std::cout << tools::Scenario::schema().dump(2) << "\n";
  return kExitMet;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  const std::string cmd = args.front();
  args.erase(args.begin());
  try {
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return kExitMet;
    }
    if (cmd == "--version") {
      std::cout << "vcpusim " << tools::kVersion << "\n";
      return kExitMet;
    }
    if (cmd == "run") return cmd_run(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "schema") return cmd_schema(args);
    std::cerr << "vcpusim: unknown command '" << cmd << "'\n\n" << kUsage;
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << "vcpusim " << cmd << ": " << e.what() << " (see vcpusim " << cmd << " --help)\n";
    return kExitUsage;
  } catch (const sim::ConfigError& e) {
    std::cerr << "vcpusim: " << e.what() << "\n";
    return kExitUsage;
  } catch (const sim::SimError& e) {
    std::cerr << "vcpusim: simulation error: " << e.what() << "\n";
    return kExitSimError;
  }
}

// Own entry point: silence SystemC's banner before its library initialises, then let SystemC
// call sc_main.
int main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
