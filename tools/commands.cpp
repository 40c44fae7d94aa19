#include "tools/commands.hpp"

#include <algorithm>
#include <iostream>
#include <regex>
#include <sstream>

#include "tools/cli_args.hpp"
#include "tools/explore/diff_cli.hpp"
#include "tools/explore/explore_cli.hpp"
#include "tools/explore/shrink_cli.hpp"
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

// What a command's --help prints, captured.
std::string help_text(const Command& c, const std::vector<std::string>& form) {
  std::ostringstream text;
  std::streambuf* saved = std::cout.rdbuf(text.rdbuf());
  try {
    c.handler(form);
  } catch (...) {
    std::cout.rdbuf(saved);
    throw;
  }
  std::cout.rdbuf(saved);
  return text.str();
}

struct Option {
  std::string name;
  bool takes_value;
};

// The long options a program_options help text declares ("  -o [ --output ] arg", "  --seed arg"),
// in the order they appear.
std::vector<Option> options_of(const std::string& help) {
  static const std::regex option(R"(^  (?:-\w \[ )?(--[a-z][a-z0-9-]*)( \])?( arg)?)");
  std::vector<Option> out;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option)) out.push_back({m[1].str(), m[3].matched});
  }
  return out;
}

void add_once(std::vector<std::string>& list, const std::string& word) {
  if (std::find(list.begin(), list.end(), word) == list.end()) list.push_back(word);
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run",
       "run FILE       run a scenario; exit 0 if it met its expect block, 1 if not\n"
       "               (--no-expect: 0 whatever the violations); run --replay R repeats a\n"
       "               schedule found by explore or shrink, byte for byte",
       cmd_run, {{"--help"}}, ""},
      {"validate", "validate FILE  check a scenario file without running it", cmd_validate,
       {{"--help"}}, ""},
      {"schema", "schema         print the JSON Schema of the scenario format", cmd_schema,
       {{"--help"}}, ""},
      {"metrics",
       "metrics [FILE] list the metrics a run emits (name, unit, doc), or those FILE's\n"
       "               components produce; expect blocks and sweep specs name these",
       cmd_metrics, {{"--help"}}, ""},
      {"checks", "checks [FILE]  list the checks, their limits and the variants they catch",
       cmd_checks, {{"--help"}}, ""},
      {"timeline",
       "timeline TRACE show a --trace file as a Gantt chart in the terminal; timeline --diff\n"
       "               PASSING FAILING shows two replays around their first divergence",
       timeline, {{"--help"}, {"--diff", "--help"}}, ""},
      {"report",
       "report RESULT  write a self-contained HTML report of a --json result (and its trace);\n"
       "               report --diff PASSING FAILING -o OUT.html compares two replays",
       report, {{"--help"}, {"--diff", "--help"}}, ""},
      {"explore", "explore FILE   search host schedules for failures; one replay file per failure",
       cmd_explore, {{"--help"}}, ""},
      {"shrink", "shrink REPLAY  reduce a failing replay to its essence (-o MIN), say what happened",
       cmd_shrink, {{"--help"}}, ""},
      {"sweep",
       "sweep SPEC     run a sweep spec (points x seeds, in parallel, resumable); also\n"
       "               sweep merge, sweep slurm, sweep schema",
       cmd_sweep, {{"--help"}, {"merge", "--help"}, {"slurm", "--help"}}, "merge slurm schema"},
      {"completion", "completion     print the bash completion script", completion, {{"--help"}},
       ""},
  };
  return table;
}

std::string usage() {
  std::ostringstream out;
  out << "usage: vcpusim <command> [options]\n\ncommands:\n";
  for (const Command& c : commands()) {
    std::istringstream lines(c.synopsis);
    for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
  }
  out << "\n"
         "vcpusim <command> --help shows the options of a command; vcpusim help --list the\n"
         "command names.\n"
         "Exit status: 0 expectations met, 1 not met, 2 bad input or usage, 3 simulation error.\n";
  return out.str();
}

std::string bash_completion() {
  // Each command's options, and the options that take a value that is not a file (nothing to
  // complete after them).
  const std::vector<std::string> file_options = {"--json", "--trace", "--vcd", "--output",
                                                 "--replay", "--diff", "--color", "--strategy"};
  std::vector<std::vector<std::string>> per_command;
  std::vector<std::string> valued;
  for (const Command& c : commands()) {
    per_command.emplace_back();
    for (const auto& form : c.help_forms)
      for (const Option& o : options_of(help_text(c, form))) {
        add_once(per_command.back(), o.name);
        if (o.takes_value &&
            std::find(file_options.begin(), file_options.end(), o.name) == file_options.end())
          add_once(valued, o.name);
      }
  }
  std::ostringstream out;
  out << "# bash completion for vcpusim, generated by `vcpusim completion` from its command\n"
         "# table and each command's --help (installed to share/bash-completion/completions).\n"
         "_vcpusim() {\n"
         "  local cur prev cmd\n"
         "  cur=${COMP_WORDS[COMP_CWORD]}\n"
         "  prev=${COMP_WORDS[COMP_CWORD-1]}\n"
         "  cmd=${COMP_WORDS[1]}\n"
         "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
         "    COMPREPLY=($(compgen -W \"";
  for (const Command& c : commands()) out << c.name << " ";
  out << "help --help --version\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case \"$prev\" in\n"
         "    --json|--trace|--vcd|-o|--output) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
         "    --replay|--diff) COMPREPLY=($(compgen -f -X '!*.json' -- \"$cur\")); return ;;\n"
         "    --color) COMPREPLY=($(compgen -W \"auto always never\" -- \"$cur\")); return ;;\n"
         "    --strategy) COMPREPLY=($(compgen -W \"pct random cover seeds\" -- \"$cur\")); "
         "return ;;\n";
  if (!valued.empty()) {
    out << "    ";
    for (std::size_t i = 0; i < valued.size(); ++i) out << (i ? "|" : "") << valued[i];
    out << ") return ;;\n";
  }
  out << "  esac\n"
         "  local opts words=\"\"\n"
         "  case \"$cmd\" in\n";
  for (std::size_t k = 0; k < commands().size(); ++k) {
    const Command& c = commands()[k];
    const std::vector<std::string>& opts = per_command[k];
    out << "    " << c.name << ") opts=\"";
    for (std::size_t i = 0; i < opts.size(); ++i) out << (i ? " " : "") << opts[i];
    out << "\"";
    if (*c.subcommands) out << "; [ \"$COMP_CWORD\" -eq 2 ] && words=\"" << c.subcommands << "\"";
    out << " ;;\n";
  }
  out << "  esac\n"
         "  if [[ \"$cur\" == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\") $(compgen -f -X '!*.json' -- "
         "\"$cur\") $(compgen -d -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F _vcpusim vcpusim\n";
  return out.str();
}

}  // namespace vcpusim::tools
