// The `metrics` and `checks` commands.
#include "tools/run/registry_cli.hpp"

#include <iostream>

#include "guest/registries.hpp"
#include "plugin/plugin_set.hpp"
#include "tools/cli_args.hpp"
#include "tools/run/registry_listing.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {
namespace {

// The options both commands take, parsed; with --help, prints it and sets `help`.
po::variables_map parse_listing(const std::vector<std::string>& args, const std::string& usage,
                                bool& help) {
  po::options_description opts(usage);
  opts.add_options()("help,h", "show this help")("set",
                                                 po::value<std::vector<std::string>>()->composing(),
                                                 "override a value of SCENARIO, as for run")(
      "markdown", "print Markdown (docs/metrics.md and docs/checks.md are this output)")(
      "plugin", po::value<std::vector<std::string>>()->composing(),
      "load this C guest-code plugin (code that runs with your rights) and list its metrics "
      "and checks too; repeatable");
  const auto vm = cli::parse(args, opts, "scenario");
  help = vm.count("help") > 0;
  if (help) std::cout << opts << "\n";
  if (!help && vm.count("set") && !vm.count("scenario"))
    throw sim::ConfigError("--set: allowed: only with a SCENARIO");
  return vm;
}

// The plugins --plugin names (none: the built-in registries alone).
std::unique_ptr<plugin::PluginSet> plugins_of(const po::variables_map& vm) {
  std::vector<std::string> cli;
  if (vm.count("plugin")) cli = vm["plugin"].as<std::vector<std::string>>();
  return plugin::load_plugins(cli, false, {}, "");
}

ListingFormat format_of(const po::variables_map& vm) {
  return vm.count("markdown") ? ListingFormat::kMarkdown : ListingFormat::kText;
}

}  // namespace

int cmd_metrics(const std::vector<std::string>& args) {
  bool help = false;
  const auto vm = parse_listing(
      args,
      "usage: vcpusim metrics [SCENARIO [--set PATH=VALUE]...] [--plugin FILE.so]... "
      "[--markdown]\n\n"
      "Lists the metrics a run emits: name, unit and what each is, by the component that counts\n"
      "them (docs/metrics.md). With SCENARIO, only those of the components that scenario builds\n"
      "(the machine, host noise and CPU bandwidth when enabled, the guest models its workloads\n"
      "start, its enabled checks), found by building them without running; a metric whose text\n"
      "says \"only when\" appears only if that happens in the run. Expect blocks and sweep\n"
      "specs may name these (with a summary's .count, .min, .p50, .p99 or .max).\n\noptions",
      help);
  if (help) return cli::kExitMet;
  const auto plugins = plugins_of(vm);
  const guest::Registries& registries = plugins->registries();
  std::vector<std::string> groups;
  if (vm.count("scenario")) {
    const auto scenario = Scenario::load(vm["scenario"].as<std::string>(), cli::values(vm, "set"),
                                         std::nullopt, registries);
    groups = metric_groups(*scenario);
  }
  std::cout << list_metrics(registries, format_of(vm), groups);
  return cli::kExitMet;
}

int cmd_checks(const std::vector<std::string>& args) {
  bool help = false;
  const auto vm = parse_listing(
      args,
      "usage: vcpusim checks [SCENARIO [--set PATH=VALUE]...] [--plugin FILE.so]... "
      "[--markdown]\n\n"
      "Lists the checks a scenario can enable (\"checks\"), the bounds of each in \"limits\", and\n"
      "the variants that exist to exercise each (docs/checks.md). With SCENARIO, only the checks\n"
      "it enables.\n\noptions",
      help);
  if (help) return cli::kExitMet;
  const auto plugins = plugins_of(vm);
  const guest::Registries& registries = plugins->registries();
  std::vector<std::string> only;
  if (vm.count("scenario")) {
    const auto scenario = Scenario::load(vm["scenario"].as<std::string>(), cli::values(vm, "set"),
                                         std::nullopt, registries);
    cli::print_warnings(scenario->warnings);
    only = scenario->checks;
    if (only.empty()) {
      std::cout << "(" << sim::printable(scenario->file) << " enables no check)\n";
      return cli::kExitMet;
    }
  }
  std::cout << list_checks(registries, format_of(vm), only);
  return cli::kExitMet;
}

}  // namespace vcpusim::tools
