// The vcpusim command line: run, validate, schema, timeline, report, sweep (tools/sweep_cli.cpp).
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <systemc>
#include <vector>

#include "sim/error.hpp"
#include "tools/report.hpp"
#include "tools/scenario.hpp"
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
    "                 (--no-expect: 0 whatever the violations)\n"
    "  validate FILE  check a scenario file without running it\n"
    "  schema         print the JSON Schema of the scenario format\n"
    "  timeline TRACE show a --trace file as a Gantt chart in the terminal\n"
    "  report RESULT  write a self-contained HTML report of a --json result (and its trace)\n"
    "  sweep SPEC     run a sweep spec (points x seeds, in parallel, resumable); also\n"
    "                 sweep merge, sweep slurm, sweep schema\n"
    "\n"
    "vcpusim <command> --help shows the options of a command.\n"
    "Exit status: 0 expectations met, 1 not met, 2 bad input or usage, 3 simulation error.\n";

// Writes through a temporary file and renames it, so a failure leaves no partial output; `write`
// streams the content (trace files can be hundreds of MB).
template <typename Fn>
void stream_atomically(const std::string& path, Fn&& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw sim::ConfigError(path + ": cannot write the output file");
    write(out);
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

void write_atomically(const std::string& path, const std::string& text) {
  stream_atomically(path, [&text](std::ostream& out) { out << text; });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw sim::ConfigError(path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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
      "                        [--vcd OUT.vcd] [--trace-from T] [--trace-to T] [--trace-kinds "
      "LIST]\n"
      "                        [--no-expect] [--no-decoupling] [--quiet]\n\n"
      "Runs the scenario in FILE and prints a summary. Exit 0 when the run met the scenario's\n"
      "expect block (or, without one, had no violation), 1 when not, 2 for bad input, 3 for a\n"
      "simulation error. With --no-expect, 0 whatever the violations (for loops and scripts).\n"
      "\noptions");
  opts.add_options()("help,h", "show this help")(
      "seed", po::value<std::uint64_t>(), "seed for every random host choice (overrides the file)")(
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
      "flow,counter,violation (default all)")(
      "no-expect", "exit 0 whether or not the run met the expect block (2 and 3 still apply)")(
      "no-decoupling",
      "a checking aid: run every guest operation on the event path (no temporal decoupling); "
      "the result must be byte-identical to a normal run, only slower")("quiet,q",
                                                                        "print nothing on stdout");
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
  auto opt = [&vm](const char* name) {
    return vm.count(name) ? vm[name].as<std::string>() : std::string();
  };
  const bool tracing = vm.count("trace") || vm.count("vcd");
  const sim::TraceFilter filter =
      tools::parse_trace_filter(opt("trace-from"), opt("trace-to"), opt("trace-kinds"));
  auto scenario = tools::Scenario::load(vm["file"].as<std::string>(), sets, seed);
  tools::RunOptions run_options;
  run_options.keep_events = tracing;
  run_options.temporal_decoupling = !vm.count("no-decoupling");
  tools::RunResult result = tools::run_scenario(*scenario, run_options);
  if (vm.count("json"))
    write_atomically(vm["json"].as<std::string>(), result.document.dump(2) + "\n");
  if (tracing) {
    const sim::Trace trace = tools::make_trace(*scenario, result, filter);
    result.events.clear();
    result.events.shrink_to_fit();
    if (vm.count("trace"))
      stream_atomically(opt("trace"), [&](std::ostream& o) {
        tools::write_chrome_trace(o, trace, filter, scenario->duration);
      });
    if (vm.count("vcd"))
      stream_atomically(opt("vcd"), [&](std::ostream& o) { trace.write_vcd(o); });
  }
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

int cmd_timeline(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim timeline TRACE.json [--from T] [--to T] [--cpu LIST] [--kinds LIST]\n"
      "                        [--width N] [--around-violation K] [--color auto|always|never]\n\n"
      "Shows a --trace file as a Gantt chart: one row per pCPU and vCPU, a legend and a time\n"
      "axis. Colour when stdout is a terminal.\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "from", po::value<std::string>(), "window start, e.g. 4ms")("to", po::value<std::string>(),
                                                                  "window end, e.g. 35ms")(
      "cpu", po::value<std::string>(), "rows to show, e.g. pCPU0,vCPU1 (or p0,v1)")(
      "kinds", po::value<std::string>(),
      "kinds to show: sched,vcpu,irq,spin,read,timekeeping,lock,seqcount,flow,violation")(
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
  std::cout << tools::render_timeline(read_file(vm["file"].as<std::string>()), o);
  return kExitMet;
}

int cmd_report(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim report RESULT.json [--trace TRACE.json] -o report.html\n\n"
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
  const std::string result = read_file(vm["file"].as<std::string>());
  const std::string trace = vm.count("trace") ? read_file(vm["trace"].as<std::string>()) : "";
  write_atomically(vm["output"].as<std::string>(),
                   tools::render_report(result, trace, vm["file"].as<std::string>(),
                                        vm.count("trace") ? vm["trace"].as<std::string>() : ""));
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
