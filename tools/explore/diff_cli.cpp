// The differential views: `vcpusim report --diff` and `vcpusim timeline --diff`
// (tools/explore/report_diff.hpp runs the two replays and finds their first divergence).
#include "tools/explore/diff_cli.hpp"

#include <iostream>

#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/explore/report_diff.hpp"
#include "tools/run/output_files.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {

int cmd_report_diff(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim report --diff PASSING FAILING -o diff.html\n\n"
      "Runs two replay files (shrink's MIN.passing.json and MIN, say) with traces and writes one\n"
      "self-contained HTML page: both timelines one above the other on the same time axis, the\n"
      "first divergence (the first recorded event that differs) marked on both, and the schedule\n"
      "items that differ between the files named as its cause.\n\noptions");
  opts.add_options()("help,h", "show this help")("diff", "compare two replay files")(
      "output,o", po::value<std::string>(), "the HTML file to write");
  const auto vm = cli::parse(args, opts, "file", -1);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  const auto in = cli::values(vm, "file");
  if (in.size() != 2) throw po::error("report --diff needs two replay files, PASSING and FAILING");
  if (!vm.count("output")) throw po::error("report --diff needs -o OUT.html");
  OutputFiles outputs(in);
  outputs.declare("-o", vm["output"].as<std::string>());
  const RunDiff d = diff_replays(in[0], in[1]);
  const std::string html = render_diff_html(d);
  outputs.write(vm["output"].as<std::string>(), [&html](std::ostream& o) { o << html; });
  outputs.commit();
  return 0;
}

int cmd_timeline_diff(const std::vector<std::string>& args) {
  po::options_description opts(
      "usage: vcpusim timeline --diff PASSING FAILING [--width N]\n\n"
      "Runs two replay files with traces and shows both Gantt charts around their first\n"
      "divergence, with a marker column there and a line naming the event and the schedule item\n"
      "that caused it.\n\noptions");
  opts.add_options()("help,h", "show this help")("diff", "compare two replay files")(
      "width", po::value<int>()->default_value(100), "chart width in columns (20..1000)");
  const auto vm = cli::parse(args, opts, "file", -1);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  const auto in = cli::values(vm, "file");
  if (in.size() != 2)
    throw po::error("timeline --diff needs two replay files, PASSING and FAILING");
  const int width = vm["width"].as<int>();
  if (width < 20 || width > 1000) throw sim::ConfigError("--width must be 20..1000");
  std::cout << render_diff_timeline(diff_replays(in[0], in[1]), width);
  return 0;
}

}  // namespace vcpusim::tools
