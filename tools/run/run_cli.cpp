// The `run`, `validate` and `schema` commands.
#include "tools/run/run_cli.hpp"

#include <iostream>
#include <optional>

#include "guest/registries.hpp"
#include "plugin/plugin_set.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/run/names_help.hpp"
#include "tools/run/output_files.hpp"
#include "tools/run/plugin_options.hpp"
#include "tools/run/replay.hpp"
#include "tools/run/run_control.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/schedule.hpp"
#include "tools/run/simulation.hpp"
#include "tools/run/trace_io.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim run FILE [--seed N] [--set PATH=VALUE]... [--json OUT] [--trace OUT.json]\n"
      "       vcpusim run --replay REPLAY.json [--no-fingerprint-check] [--json OUT] ...\n"
      "                        [--vcd OUT.vcd] [--trace-from T] [--trace-to T] [--trace-kinds "
      "LIST]\n"
      "                        [--host-trace OUT.trace [--host-trace-ns]] [--max-wall T] "
      "[--max-steps N]\n"
      "                        [--no-expect] [--no-decoupling] [--no-lookahead] "
      "[--verify-footprints]\n"
      "                        [--plugin FILE.so]... [--allow-plugins] [--quiet]\n\n"
      "Runs the scenario in FILE and prints a summary. Exit 0 when the run met the scenario's\n"
      "expect block (or, without one, had no violation), 1 when not, 2 for bad input, 3 for a\n"
      "simulation error. With --no-expect, 0 whatever the violations (for loops and scripts).\n"
      "With --replay, the scenario and schedule (decisions and host events) come from a replay\n"
      "file written by explore or shrink; the run must reproduce the recorded fingerprint (exit 3\n"
      "if it does not; a file without one is bad input unless --no-fingerprint-check). Outputs\n"
      "are written all-or-nothing. Ctrl-C, --max-wall or --max-steps stop the run where it is and\n"
      "write the partial result, marked \"complete\": false (exit 1).\n"
      "C guest code (docs/c-guest-code.md) comes from plugins, loaded only when the command line\n"
      "says so (--plugin, --allow-plugins); its memory model is sequentially consistent, so a\n"
      "clean run says nothing about x86 or arm64 reorderings. A replay records each plugin's\n"
      "path and content hash and refuses another build of it.\n"
      "\noptions");
  opts.add_options()("help,h", "show this help")(
      "seed", po::value<std::string>(), "seed for every random host choice (overrides the file)")(
      "replay", po::value<std::string>(),
      "a replay file (explore -o, shrink -o) instead of FILE: its scenario and schedule")(
      "no-fingerprint-check",
      "with --replay: run a file without a fingerprint (hand-made), or whatever its fingerprint")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a scenario value, e.g. --set guest.timekeeping.variant=reanchor or "
      "--set host.load[0].busy=5ms (VALUE is JSON, or else a string)")(
      "json", po::value<std::string>(), "write the result JSON to this file")(
      "trace", po::value<std::string>(),
      "write a Chrome Trace Event JSON (Perfetto, chrome://tracing; see docs/trace.md)")(
      "vcd", po::value<std::string>(), "write a value-change dump of vCPU states and pCPU owners")(
      "host-trace", po::value<std::string>(),
      "write the simulated host's schedule as ftrace text (sched_switch, sched_wakeup, noise "
      "interrupts, kvm_exit and kvm_entry; times to the microsecond), as a real host's "
      "/sys/kernel/tracing/trace (docs/host-trace.md)")(
      "host-trace-ns",
      "with --host-trace: timestamps in nanoseconds, as trace-cmd report -t prints them (a "
      "replay of the file then gives the run's windows to the nanosecond)")(
      "trace-from", po::value<std::string>(), "trace/VCD window start, e.g. 30ms")(
      "trace-to", po::value<std::string>(), "trace/VCD window end, e.g. 35ms")(
      "trace-kinds", po::value<std::string>(),
      "comma list of trace kinds to keep: sched,vcpu,irq,spin,read,timekeeping,lock,seqcount,"
      "rcu,flow,counter,violation (default all)")(
      "max-wall", po::value<std::string>(),
      "wall-clock budget, e.g. 30s: then stop and write the partial result")(
      "max-steps", po::value<std::string>(),
      "deterministic budget: stop after N steps (kernel events plus guest operations advanced "
      "inline) and write the partial result; the same N stops at the same point every time")(
      "no-expect", "exit 0 whether or not the run met the expect block (2 and 3 still apply)")(
      "no-decoupling",
      "a checking aid: run every guest operation on the event path (no temporal decoupling); "
      "the result must be byte-identical to a normal run, only slower")(
      "no-lookahead",
      "a checking aid: no guest task runs ahead of another's pending events (docs/lookahead.md); "
      "the result must be byte-identical to a normal run")(
      "verify-footprints",
      "check every guest access and host request of a task that declared a footprint against "
      "it (docs/lookahead.md); a violation is a simulation error (exit 3)")(
      "quiet,q", "print nothing on stdout (nor the progress line)");
  add_plugin_options(opts);
  const auto vm = cli::parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return cli::kExitMet;
  }
  const bool replay = vm.count("replay") > 0;
  if (replay && (vm.count("file") || vm.count("seed") || vm.count("set")))
    throw sim::ConfigError(
        "--replay takes the scenario, seed and schedule from the replay file; allowed: --replay "
        "without FILE, --seed or --set");
  if (!replay && !vm.count("file")) throw po::error("run needs a scenario FILE");
  const bool check_fingerprint = !vm.count("no-fingerprint-check");
  if (!replay && !check_fingerprint)
    throw sim::ConfigError("--no-fingerprint-check: allowed: only with --replay");
  if (vm.count("host-trace-ns") && !vm.count("host-trace"))
    throw sim::ConfigError("--host-trace-ns: allowed: only with --host-trace");
  std::optional<std::uint64_t> seed;
  if (vm.count("seed")) seed = cli::integer("--seed", vm["seed"].as<std::string>(), 0, UINT64_MAX, "seed");
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  auto opt = [&vm](const char* name) {
    return vm.count(name) ? vm[name].as<std::string>() : std::string();
  };
  const std::string file = replay ? vm["replay"].as<std::string>() : vm["file"].as<std::string>();
  OutputFiles outputs({file});
  for (const char* o : {"json", "trace", "vcd", "host-trace"})
    if (vm.count(o)) outputs.declare(std::string("--") + o, opt(o));
  const bool tracing = vm.count("trace") || vm.count("vcd");
  const sim::TraceFilter filter =
      parse_trace_filter(opt("trace-from"), opt("trace-to"), opt("trace-kinds"));
  sim::Tick max_wall = 0;
  if (vm.count("max-wall")) {
    const auto t = sim::parse_duration(opt("max-wall"));
    if (!t || *t <= 0)
      throw sim::ConfigError("--max-wall " + sim::quote(opt("max-wall")) +
                             ": is not a duration; allowed: a positive duration, e.g. 30s");
    max_wall = *t;
  }
  std::uint64_t max_steps = 0;
  if (vm.count("max-steps"))
    max_steps = cli::integer("--max-steps", opt("max-steps"), 1, UINT64_MAX);
  std::optional<ReplayFile> replay_file;
  if (replay) replay_file = ReplayFile::load(file);
  if (replay && check_fingerprint) replay_file->require_fingerprint(file);
  LoadedScenario loaded;
  if (replay) {
    loaded.plugins = load_replay_plugins(PluginPermission::of(vm), *replay_file, file);
    loaded.scenario = replay_scenario(*replay_file, file, loaded.plugins.get());
  } else {
    loaded = load_with_plugins(PluginPermission::of(vm), file, sets, seed);
  }
  auto& scenario = loaded.scenario;
  if (!replay) cli::print_warnings(scenario->warnings);
  for (const auto& load : scenario->host.load)
    if (!load->trace_path.empty()) outputs.add_input(load->trace_path);
  RunOptions run_options;
  run_options.temporal_decoupling = !vm.count("no-decoupling");
  run_options.lookahead = !vm.count("no-lookahead");
  run_options.verify_footprints = vm.count("verify-footprints") > 0;
  run_options.max_steps = max_steps;
  RunControl control(scenario->duration, max_wall, !vm.count("quiet"));
  run_options.poll = [&control](sim::Tick now) { return control.poll(now); };
  std::optional<ReplaySteer> steer;
  if (replay) {
    steer.emplace(replay_file->schedule, file);
    run_options.steer = &*steer;
    run_options.injections = replay_file->schedule.injections;
    run_options.counted_words = replay_file->schedule.counted_words;
  }
  // The trace is streamed to its files during the run (memory flat in simulated time).
  std::unique_ptr<TraceStream> trace;
  if (tracing) {
    std::ostream* chrome = vm.count("trace") ? &outputs.open(opt("trace")) : nullptr;
    std::ostream* vcd = vm.count("vcd") ? &outputs.open(opt("vcd")) : nullptr;
    run_options.trace = [&, chrome, vcd](const sim::Components& components) {
      trace = std::make_unique<TraceStream>(*scenario, components, filter, chrome, vcd);
      return &trace->builder();
    };
  }
  if (vm.count("host-trace")) run_options.host_trace = &outputs.open(opt("host-trace"));
  run_options.host_trace_ns = vm.count("host-trace-ns") > 0;
  RunResult result = run_scenario(*scenario, run_options);
  trace.reset();  // finished by the run; its streams are the outputs'
  if (replay && check_fingerprint) check_reproduced(*replay_file, file, result);
  if (!result.complete)
    std::cerr << "vcpusim: stopped by "
              << (result.budget_exceeded ? "--max-steps " + opt("max-steps")
                                         : control.stop_reason())
              << "\n";
  if (vm.count("json"))
    outputs.write(opt("json"), [&](std::ostream& o) { o << result.document.dump(2) << "\n"; });
  outputs.commit();
  if (!vm.count("quiet")) std::cout << summarize(*scenario, result);
  return result.expect_met || vm.count("no-expect") ? cli::kExitMet : cli::kExitNotMet;
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim validate FILE [--set PATH=VALUE]... [--resolved]\n\n"
      "Checks FILE strictly (unknown keys, types, units, ranges) without running it.\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a value, as for run")(
      "resolved", "print the scenario with every default filled in");
  add_plugin_options(opts);
  const auto vm = cli::parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n" << names_help(guest::builtin_registries());
    return cli::kExitMet;
  }
  if (!vm.count("file")) throw po::error("validate needs a scenario FILE");
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  LoadedScenario loaded =
      load_with_plugins(PluginPermission::of(vm), vm["file"].as<std::string>(), sets, std::nullopt);
  const auto& scenario = loaded.scenario;
  cli::print_warnings(scenario->warnings);
  if (vm.count("resolved"))
    std::cout << scenario->resolved().dump(2) << "\n";
  else
    std::cout << sim::printable(scenario->file) << ": valid scenario \""
              << sim::printable(scenario->name) << "\"\n";
  return cli::kExitMet;
}

int cmd_schema(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim schema [--plugin FILE.so]...\n\nPrints the scenario JSON Schema (with "
      "the lock kinds and checks of the plugins given).\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "plugin", po::value<std::vector<std::string>>()->composing(),
      "load this C guest-code plugin (code that runs with your rights); repeatable");
  const auto vm = cli::parse(args, opts);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return cli::kExitMet;
  }
  std::vector<std::string> cli;
  if (vm.count("plugin")) cli = vm["plugin"].as<std::vector<std::string>>();
  const auto plugins = plugin::load_plugins(cli, false, {}, "");
  std::cout << Scenario::schema(plugins->registries()).dump(2) << "\n";
  return cli::kExitMet;
}

}  // namespace vcpusim::tools
