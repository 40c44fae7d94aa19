// The vcpusim command line: run, validate, schema, timeline, report, sweep (tools/sweep_cli.cpp).
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <systemc>
#include <vector>

#include "sim/error.hpp"
#include "sim/scenario_file.hpp"
#include "tools/explore.hpp"
#include "tools/explore_cli.hpp"
#include "tools/output_files.hpp"
#include "tools/report.hpp"
#include "tools/run_control.hpp"
#include "tools/scenario.hpp"
#include "tools/shrink_cli.hpp"
#include "tools/simulation.hpp"
#include "tools/sweep_cli.hpp"
#include "tools/timeline.hpp"
#include "tools/trace_io.hpp"
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
    "                 (--no-expect: 0 whatever the violations); run --replay R repeats a\n"
    "                 schedule found by explore or shrink, byte for byte\n"
    "  validate FILE  check a scenario file without running it\n"
    "  schema         print the JSON Schema of the scenario format\n"
    "  timeline TRACE show a --trace file as a Gantt chart in the terminal; timeline --diff\n"
    "                 PASSING FAILING shows two replays around their first divergence\n"
    "  report RESULT  write a self-contained HTML report of a --json result (and its trace);\n"
    "                 report --diff PASSING FAILING -o OUT.html compares two replays\n"
    "  explore FILE   search host schedules for failures; one replay file per failure\n"
    "  shrink REPLAY  reduce a failing replay to its essence (-o MIN), say what happened\n"
    "  sweep SPEC     run a sweep spec (points x seeds, in parallel, resumable); also\n"
    "                 sweep merge, sweep slurm, sweep schema\n"
    "\n"
    "vcpusim <command> --help shows the options of a command.\n"
    "Exit status: 0 expectations met, 1 not met, 2 bad input or usage, 3 simulation error.\n";

std::string read_file(const std::string& path, const char* what) {
  return sim::read_input_file(path, what);
}

// A decimal integer in [0, 2^64-1]; Boost would wrap "-1" to 2^64-1.
std::optional<std::uint64_t> parse_u64(const std::string& text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - static_cast<unsigned>(c - '0')) / 10)
      return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

std::uint64_t parse_seed(const std::string& text) {
  const auto v = parse_u64(text);
  if (!v)
    throw sim::ConfigError("--seed " + sim::quote(text) +
                           ": is not a seed; allowed: an integer from 0 to 18446744073709551615");
  return *v;
}

std::uint64_t parse_count(const std::string& option, const std::string& text) {
  const auto v = parse_u64(text);
  if (!v || *v == 0)
    throw sim::ConfigError(option + " " + sim::quote(text) +
                           ": is not a count; allowed: an integer from 1 to 18446744073709551615");
  return *v;
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
      "usage: vcpusim run FILE [--seed N] [--set PATH=VALUE]... [--json OUT] [--trace OUT.json]\n"
      "       vcpusim run --replay REPLAY.json [--json OUT] [--trace OUT.json] ...\n"
      "                        [--vcd OUT.vcd] [--trace-from T] [--trace-to T] [--trace-kinds "
      "LIST]\n"
      "                        [--max-wall T] [--max-steps N] [--no-expect] [--no-decoupling]\n"
      "                        [--quiet]\n\n"
      "Runs the scenario in FILE and prints a summary. Exit 0 when the run met the scenario's\n"
      "expect block (or, without one, had no violation), 1 when not, 2 for bad input, 3 for a\n"
      "simulation error. With --no-expect, 0 whatever the violations (for loops and scripts).\n"
      "With --replay, the scenario and schedule (decisions and host events) come from a replay\n"
      "file written by explore or shrink; the run must reproduce the recorded fingerprint (exit 3\n"
      "if it does not). Outputs are written all-or-nothing. Ctrl-C, --max-wall or --max-steps\n"
      "stop the run where it is and write the partial result, marked \"complete\": false\n"
      "(exit 1).\n"
      "\noptions");
  opts.add_options()("help,h", "show this help")(
      "seed", po::value<std::string>(), "seed for every random host choice (overrides the file)")(
      "replay", po::value<std::string>(),
      "a replay file (explore -o, shrink -o) instead of FILE: its scenario and schedule")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a scenario value, e.g. --set guest.timekeeping.variant=reanchor or "
      "--set host.load[0].busy=5ms (VALUE is JSON, or else a string)")(
      "json", po::value<std::string>(), "write the result JSON to this file")(
      "trace", po::value<std::string>(),
      "write a Chrome Trace Event JSON (Perfetto, chrome://tracing; see docs/trace.md)")(
      "vcd", po::value<std::string>(), "write a value-change dump of vCPU states and pCPU owners")(
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
      "quiet,q", "print nothing on stdout (nor the progress line)");
  const auto vm = parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitMet;
  }
  const bool replay = vm.count("replay") > 0;
  if (replay && (vm.count("file") || vm.count("seed") || vm.count("set")))
    throw sim::ConfigError(
        "--replay takes the scenario, seed and schedule from the replay file; allowed: --replay "
        "without FILE, --seed or --set");
  if (!replay && !vm.count("file")) throw po::error("run needs a scenario FILE");
  std::optional<std::uint64_t> seed;
  if (vm.count("seed")) seed = parse_seed(vm["seed"].as<std::string>());
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  auto opt = [&vm](const char* name) {
    return vm.count(name) ? vm[name].as<std::string>() : std::string();
  };
  const std::string file = replay ? vm["replay"].as<std::string>() : vm["file"].as<std::string>();
  tools::OutputFiles outputs({file});
  for (const char* o : {"json", "trace", "vcd"})
    if (vm.count(o)) outputs.declare(std::string("--") + o, opt(o));
  const bool tracing = vm.count("trace") || vm.count("vcd");
  const sim::TraceFilter filter =
      tools::parse_trace_filter(opt("trace-from"), opt("trace-to"), opt("trace-kinds"));
  sim::Tick max_wall = 0;
  if (vm.count("max-wall")) {
    const auto t = sim::parse_duration(opt("max-wall"));
    if (!t || *t <= 0)
      throw sim::ConfigError("--max-wall " + sim::quote(opt("max-wall")) +
                             ": is not a duration; allowed: a positive duration, e.g. 30s");
    max_wall = *t;
  }
  std::uint64_t max_steps = 0;
  if (vm.count("max-steps")) max_steps = parse_count("--max-steps", opt("max-steps"));
  std::optional<tools::ReplayFile> replay_file;
  if (replay) replay_file = tools::ReplayFile::load(file);
  auto scenario = replay ? tools::Scenario::from_json(replay_file->scenario, file)
                         : tools::Scenario::load(file, sets, seed);
  tools::RunOptions run_options;
  run_options.temporal_decoupling = !vm.count("no-decoupling");
  run_options.max_steps = max_steps;
  tools::RunControl control(scenario->duration, max_wall, !vm.count("quiet"));
  run_options.poll = [&control](sim::Tick now) { return control.poll(now); };
  std::optional<tools::ReplaySteer> steer;
  if (replay) {
    steer.emplace(replay_file->schedule);
    run_options.steer = &*steer;
    run_options.injections = replay_file->schedule.injections;
    run_options.counted_words = replay_file->schedule.counted_words;
  }
  // The trace is streamed to its files during the run (memory flat in simulated time).
  std::unique_ptr<tools::TraceStream> trace;
  if (tracing) {
    std::ostream* chrome = vm.count("trace") ? &outputs.open(opt("trace")) : nullptr;
    std::ostream* vcd = vm.count("vcd") ? &outputs.open(opt("vcd")) : nullptr;
    run_options.trace = [&, chrome, vcd](const sim::Components& components) {
      trace = std::make_unique<tools::TraceStream>(*scenario, components, filter, chrome, vcd);
      return &trace->builder();
    };
  }
  tools::RunResult result = tools::run_scenario(*scenario, run_options);
  trace.reset();  // finished by the run; its streams are the outputs'
  const std::string fingerprint = result.document["fingerprint"];
  if (replay && result.complete && !replay_file->fingerprint.empty() &&
      fingerprint != replay_file->fingerprint)
    throw sim::SimError("replay " + file + " did not reproduce its run: fingerprint " +
                        fingerprint + ", recorded " + replay_file->fingerprint +
                        " (another vcpusim version, or an edited file)");
  if (!result.complete)
    std::cerr << "vcpusim: stopped by "
              << (result.budget_exceeded ? "--max-steps " + opt("max-steps")
                                         : control.stop_reason())
              << "\n";
  if (vm.count("json"))
    outputs.write(opt("json"), [&](std::ostream& o) { o << result.document.dump(2) << "\n"; });
  outputs.commit();
  if (!vm.count("quiet")) std::cout << tools::summarize(*scenario, result);
  return result.expect_met || vm.count("no-expect") ? kExitMet : kExitNotMet;
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
    std::cout << sim::printable(scenario->file) << ": valid scenario \""
              << sim::printable(scenario->name) << "\"\n";
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

int cmd_timeline(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--diff") != args.end())
    return tools::cmd_timeline_diff(args);
  po::options_description opts(
      "usage: vcpusim timeline TRACE.json [--from T] [--to T] [--cpu LIST] [--kinds LIST]\n"
      "                        [--width N] [--around-violation K] [--color auto|always|never]\n"
      "       vcpusim timeline --diff PASSING FAILING [--width N]   (see timeline --diff --help)\n\n"
      "Shows a --trace file as a Gantt chart: one row per pCPU and vCPU, a legend and a time\n"
      "axis. Colour when stdout is a terminal.\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "from", po::value<std::string>(), "window start, e.g. 4ms")("to", po::value<std::string>(),
                                                                  "window end, e.g. 35ms")(
      "cpu", po::value<std::string>(), "rows to show, e.g. pCPU0,vCPU1 (or p0,v1)")(
      "kinds", po::value<std::string>(),
      "kinds to show: sched,vcpu,irq,spin,read,timekeeping,lock,seqcount,rcu,flow,violation")(
      "width", po::value<int>()->default_value(100), "chart width in columns (20..1000)")(
      "around-violation", po::value<int>(),
      "window around violation K (0 = the first), with a zoom and the key events")(
      "color", po::value<std::string>()->default_value("auto"), "auto, always or never");
  const auto vm = parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitMet;
  }
  if (!vm.count("file")) throw po::error("timeline needs a TRACE file (from vcpusim run --trace)");
  tools::TimelineOptions o;
  auto opt = [&vm](const char* name) {
    return vm.count(name) ? vm[name].as<std::string>() : std::string();
  };
  o.from = opt("from");
  o.to = opt("to");
  o.cpus = opt("cpu");
  o.kinds = opt("kinds");
  o.file = vm["file"].as<std::string>();
  o.width = vm["width"].as<int>();
  if (vm.count("around-violation")) o.around_violation = vm["around-violation"].as<int>();
  const std::string color = vm["color"].as<std::string>();
  if (color == "always")
    o.color = true;
  else if (color == "never")
    o.color = false;
  else if (color == "auto")
    o.color = isatty(1) && !std::getenv("NO_COLOR");
  else
    throw po::error("--color must be auto, always or never");
  std::cout << tools::render_timeline(read_file(o.file, "trace"), o);
  return kExitMet;
}

int cmd_report(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--diff") != args.end())
    return tools::cmd_report_diff(args);
  po::options_description opts(
      "usage: vcpusim report RESULT.json [--trace TRACE.json] -o report.html\n"
      "       vcpusim report --diff PASSING FAILING -o diff.html   (see report --diff --help)\n\n"
      "Writes one self-contained HTML file (no network fetches): the scenario, metrics, the\n"
      "violations and a zoomable SVG timeline of the trace.\n\noptions");
  opts.add_options()("help,h", "show this help")("trace", po::value<std::string>(),
                                                 "the run's --trace file, for the timeline")(
      "output,o", po::value<std::string>(), "the HTML file to write");
  const auto vm = parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitMet;
  }
  if (!vm.count("file")) throw po::error("report needs a RESULT file (from vcpusim run --json)");
  if (!vm.count("output")) throw po::error("report needs -o OUT.html");
  const std::string result_file = vm["file"].as<std::string>();
  const std::string trace_file = vm.count("trace") ? vm["trace"].as<std::string>() : "";
  const std::string output = vm["output"].as<std::string>();
  tools::OutputFiles outputs({result_file, trace_file.empty() ? result_file : trace_file});
  outputs.declare("-o", output);
  const std::string result = read_file(result_file, "result");
  const std::string trace = trace_file.empty() ? "" : read_file(trace_file, "trace");
  const std::string html = tools::render_report(result, trace, result_file, trace_file);
  outputs.write(output, [&html](std::ostream& o) { o << html; });
  outputs.commit();
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
    if (cmd == "timeline") return cmd_timeline(args);
    if (cmd == "report") return cmd_report(args);
    if (cmd == "sweep") return tools::cmd_sweep(args);
    if (cmd == "explore") return tools::cmd_explore(args);
    if (cmd == "shrink") return tools::cmd_shrink(args);
    std::cerr << "vcpusim: unknown command '" << sim::printable(cmd) << "'\n\n" << kUsage;
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << "vcpusim " << sim::printable(cmd) << ": " << sim::printable(e.what())
              << " (see vcpusim " << cmd << " --help)\n";
    return kExitUsage;
  } catch (const sim::ConfigError& e) {
    std::cerr << "vcpusim: " << sim::printable(e.what()) << "\n";
    return kExitUsage;
  } catch (const sim::SimError& e) {
    std::cerr << "vcpusim: simulation error: " << sim::printable(e.what()) << "\n";
    return kExitSimError;
  } catch (const std::exception& e) {  // a bug: never SystemC's "uncaught exception" and exit 1
    std::cerr << "vcpusim: internal error: " << sim::printable(e.what()) << "\n";
    return kExitSimError;
  } catch (...) {
    std::cerr << "vcpusim: internal error: an unknown exception\n";
    return kExitSimError;
  }
}

// Own entry point: silence SystemC's banner before its library initialises, then let SystemC
// call sc_main.
int main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
