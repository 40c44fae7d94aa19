// The `timeline` and `report` commands (their --diff forms are tools/explore/diff_cli.hpp).
#include "tools/view/view_cli.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/run/output_files.hpp"
#include "tools/view/report.hpp"
#include "tools/view/timeline.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {

int cmd_timeline(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim timeline TRACE.json [--from T] [--to T] [--cpu LIST] [--kinds LIST]\n"
      "                        [--width N] [--around-violation K | --at EVENT]\n"
      "                        [--color auto|always|never]\n"
      "       vcpusim timeline --diff PASSING FAILING [--width N]   (see timeline --diff --help)\n\n"
      "Shows a --trace file as a Gantt chart: one row per pCPU and vCPU, a legend and a time\n"
      "axis. Colour when stdout is a terminal. --at EVENT draws the window around one of the\n"
      "trace's notable events, the list `vcpusim report` shows (violations, lock-holder\n"
      "preemptions, grace periods over 1ms): EVENT is its number N in that list, or KIND:N,\n"
      "the N-th (from 0) of a kind: violation:N, holder-preempted:N or long-gp:N.\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "from", po::value<std::string>(), "window start, e.g. 4ms")("to", po::value<std::string>(),
                                                                  "window end, e.g. 35ms")(
      "cpu", po::value<std::string>(), "rows to show, e.g. pCPU0,vCPU1 (or p0,v1)")(
      "kinds", po::value<std::string>(),
      "kinds to show: sched,vcpu,irq,spin,read,timekeeping,lock,seqcount,rcu,flow,violation")(
      "width", po::value<int>()->default_value(100), "chart width in columns (20..1000)")(
      "around-violation", po::value<int>(),
      "window around violation K (0 = the first), with a zoom and the key events")(
      "at", po::value<std::string>(),
      "window around a notable event: N (the report's list) or KIND:N, e.g. holder-preempted:3")(
      "color", po::value<std::string>()->default_value("auto"), "auto, always or never");
  const auto vm = cli::parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return cli::kExitMet;
  }
  if (!vm.count("file")) throw po::error("timeline needs a TRACE file (from vcpusim run --trace)");
  TimelineOptions o;
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
  o.at = opt("at");
  const std::string color = vm["color"].as<std::string>();
  if (color == "always")
    o.color = true;
  else if (color == "never")
    o.color = false;
  else if (color == "auto")
    o.color = isatty(1) && !std::getenv("NO_COLOR");
  else
    throw po::error("--color must be auto, always or never");
  std::cout << render_timeline(sim::read_input_file(o.file, "trace"), o);
  return cli::kExitMet;
}

int cmd_report(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim report RESULT.json [--trace TRACE.json] -o report.html\n"
      "       vcpusim report --diff PASSING FAILING -o diff.html   (see report --diff --help)\n\n"
      "Writes one self-contained HTML file (no network fetches): the scenario, the violations,\n"
      "the trace's notable events (each a link to its moment; `timeline --at N` draws the same\n"
      "one), a zoomable SVG timeline with a legend of what it holds, and the metrics by\n"
      "component.\n\noptions");
  opts.add_options()("help,h", "show this help")("trace", po::value<std::string>(),
                                                 "the run's --trace file, for the timeline")(
      "output,o", po::value<std::string>(), "the HTML file to write");
  const auto vm = cli::parse(args, opts, "file");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return cli::kExitMet;
  }
  if (!vm.count("file")) throw po::error("report needs a RESULT file (from vcpusim run --json)");
  if (!vm.count("output")) throw po::error("report needs -o OUT.html");
  const std::string result_file = vm["file"].as<std::string>();
  const std::string trace_file = vm.count("trace") ? vm["trace"].as<std::string>() : "";
  const std::string output = vm["output"].as<std::string>();
  OutputFiles outputs({result_file, trace_file.empty() ? result_file : trace_file});
  outputs.declare("-o", output);
  const std::string result = sim::read_input_file(result_file, "result");
  const std::string trace = trace_file.empty() ? "" : sim::read_input_file(trace_file, "trace");
  const std::string html = render_report(result, trace, result_file, trace_file);
  outputs.write(output, [&html](std::ostream& o) { o << html; });
  outputs.commit();
  return cli::kExitMet;
}

}  // namespace vcpusim::tools
