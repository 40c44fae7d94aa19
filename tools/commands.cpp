#include "tools/commands.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "tools/cli_args.hpp"
#include "tools/explore/diff_cli.hpp"
#include "tools/explore/explore_cli.hpp"
#include "tools/explore/shrink_cli.hpp"
#include "tools/load/load_cli.hpp"
#include "tools/run/cc_cli.hpp"
#include "tools/run/registry_cli.hpp"
#include "tools/run/run_cli.hpp"
#include "tools/sweep/sweep_cli.hpp"
#include "tools/view/view_cli.hpp"

namespace vcpusim::tools {
namespace {

bool has_diff(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--diff") != args.end();
}

int timeline(const std::vector<std::string>& args) {
  return has_diff(args) ? cmd_timeline_diff(args) : cmd_timeline(args);
}

int report(const std::vector<std::string>& args) {
  return has_diff(args) ? cmd_report_diff(args) : cmd_report(args);
}

int completion(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: vcpusim completion\n\nPrints the bash completion script (installed as "
                 "share/bash-completion/completions/vcpusim).\n";
    return cli::kExitMet;
  }
  if (!args.empty()) throw cli::po::error("completion takes no arguments");
  std::cout << bash_completion();
  return cli::kExitMet;
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "run FILE",
       "run a scenario; exit 0 if it met its expect block, 1 if not (--no-expect: 0 whatever "
       "the violations); run --replay R repeats a schedule found by explore or shrink, byte for "
       "byte",
       cmd_run, {{"--help"}}, ""},
      {"validate", "validate FILE", "check a scenario file without running it", cmd_validate,
       {{"--help"}}, ""},
      {"schema", "schema", "print the JSON Schema of the scenario format", cmd_schema,
       {{"--help"}}, ""},
      {"metrics", "metrics [FILE]",
       "list the metrics a run emits (name, unit, doc), or those FILE's components produce; "
       "expect blocks and sweep specs name these",
       cmd_metrics, {{"--help"}}, ""},
      {"checks", "checks [FILE]", "list the checks, their limits and the variants they catch",
       cmd_checks, {{"--help"}}, ""},
      {"timeline", "timeline TRACE",
       "show a --trace file as a Gantt chart in the terminal; timeline --diff PASSING FAILING "
       "shows two replays around their first divergence",
       timeline, {{"--help"}, {"--diff", "--help"}}, ""},
      {"report", "report RESULT",
       "write a self-contained HTML report of a --json result (and its trace); report --diff "
       "PASSING FAILING -o OUT.html compares two replays",
       report, {{"--help"}, {"--diff", "--help"}}, ""},
      {"explore", "explore FILE",
       "search host schedules for failures; one replay file per failure; also explore merge "
       "(the shards of --shard I/N), explore slurm",
       cmd_explore, {{"--help"}, {"merge", "--help"}, {"slurm", "--help"}}, "merge slurm"},
      {"shrink", "shrink REPLAY", "reduce a failing replay to its essence (-o MIN), say what happened",
       cmd_shrink, {{"--help"}}, ""},
      {"sweep", "sweep SPEC",
       "run a sweep spec (points x seeds, in parallel, resumable); also sweep merge, sweep "
       "slurm, sweep schema",
       cmd_sweep, {{"--help"}, {"merge", "--help"}, {"slurm", "--help"}}, "merge slurm schema"},
      {"load", "load import TRACE",
       "read a host recording (ftrace, trace-cmd report or perf sched script text) once: print "
       "its summary and write the imported recording a trace host load replays",
       cmd_load, {{"import", "--help"}}, "import"},
      {"cc", "cc FILE.c",
       "build a C guest-code plugin (cc FILE.c -o FILE.so) with the system compiler and the "
       "flags it needs (docs/c-guest-code.md); load it with run --plugin",
       cmd_cc, {{"--help"}}, ""},
      {"completion", "completion", "print the bash completion script", completion, {{"--help"}},
       ""},
  };
  return table;
}

std::string usage() {
  // Two columns: the term, then its summary wrapped at 96 columns. At least two spaces after the
  // longest term, so help2man reads every line as a term and its paragraph (the man page).
  std::size_t column = 0;
  for (const Command& c : commands()) column = std::max(column, std::string(c.term).size());
  column += 4;  // two of indent, two of gap
  constexpr std::size_t kWidth = 96;
  std::ostringstream out;
  out << "usage: vcpusim <command> [options]\n\ncommands:\n";
  for (const Command& c : commands()) {
    std::string line = "  " + std::string(c.term);
    line.resize(column, ' ');
    std::istringstream words(c.summary);
    std::size_t filled = column;
    for (std::string word; words >> word;) {
      if (filled > column && filled + 1 + word.size() > kWidth) {
        out << line << "\n";
        line.assign(column, ' ');
        filled = column;
      }
      if (filled > column) line += ' ';
      line += word;
      filled = line.size();
    }
    out << line << "\n";
  }
  out << "\n"
         "vcpusim <command> --help shows the options of a command; vcpusim help --list the\n"
         "command names.\n"
         "Exit status: 0 expectations met, 1 not met, 2 bad input or usage, 3 simulation error.\n";
  return out.str();
}

}  // namespace vcpusim::tools
