// The bash completion script (`vcpusim completion`): commands and sub-commands from the command
// table, each command's options from its --help texts, and --set's paths and values from the
// scenario JSON Schema, so the script never lists what the code does not accept.
#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tools/commands.hpp"
#include "tools/run/scenario.hpp"

namespace vcpusim::tools {
namespace {

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

// A word the script can hold unquoted in a word list and single-quoted in a case pattern.
bool shell_word(const std::string& word) {
  static const std::regex safe(R"([A-Za-z0-9_.:+\-\[\]]+)");
  return std::regex_match(word, safe);
}

// Every value a scenario path can be --set to, when the schema names them (an enum, a boolean);
// an empty list for free values. Array items appear once, at index [0].
void collect_paths(const sim::Json& node, const std::string& path,
                   std::map<std::string, std::set<std::string>>& out) {
  bool walked = false;
  for (const char* branches : {"oneOf", "anyOf"})
    if (node.contains(branches))
      for (const auto& branch : node[branches]) {
        collect_paths(branch, path, out);
        walked = true;
      }
  if (node.contains("properties")) {
    for (const auto& [key, child] : node["properties"].items())
      collect_paths(child, path.empty() ? key : path + "." + key, out);
    return;
  }
  if (path.empty() || !shell_word(path)) return;
  auto& values = out[path];
  if (node.contains("enum"))
    for (const auto& v : node["enum"]) {
      const std::string word = v.is_string() ? v.get<std::string>() : v.dump();
      if (shell_word(word)) values.insert(word);
    }
  if (node.value("type", sim::Json()) == "boolean") values.insert({"false", "true"});
  if (node.contains("items") && node["items"].is_object() && !walked)
    collect_paths(node["items"], path + "[0]", out);
}

// The shell data the completion reads: a word list of paths and a function from a path (any
// index normalised to [0]) to its values. Paths come from the schema, never from input; each is
// still quoted, as [0] would otherwise be a glob in a case pattern.
std::string set_completion_data() {
  std::map<std::string, std::set<std::string>> paths;
  collect_paths(Scenario::schema(), "", paths);
  std::ostringstream out;
  out << "_vcpusim_set_paths=\"";
  bool first = true;
  for (const auto& [path, values] : paths) {
    out << (first ? "" : " ") << path;
    first = false;
  }
  out << "\"\n_vcpusim_set_values() {\n"
         "  case \"$(printf '%s' \"$1\" | sed 's/\\[[0-9]*\\]/[0]/g')\" in\n";
  for (const auto& [path, values] : paths) {
    if (values.empty()) continue;
    out << "    '" << path << "') echo \"";
    first = true;
    for (const auto& v : values) {
      out << (first ? "" : " ") << v;
      first = false;
    }
    out << "\" ;;\n";
  }
  out << "  esac\n}\n";
  return out.str();
}

}  // namespace

std::string bash_completion() {
  // Each command's options, and the options that take a value that is not a file (nothing to
  // complete after them).
  const std::vector<std::string> file_options = {"--json", "--trace", "--vcd", "--host-trace", "--output",
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
  out << set_completion_data();
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
         "  # --set PATH=VALUE: the scenario's paths, then the values a path allows (bash splits\n"
         "  # the word at '=': --set, PATH, =, VALUE)\n"
         "  if [ \"$prev\" = --set ]; then\n"
         "    compopt -o nospace 2>/dev/null\n"
         "    COMPREPLY=($(compgen -W \"$_vcpusim_set_paths\" -S = -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  local path=\"\"\n"
         "  if [ \"$cur\" = = ] && [ \"${COMP_WORDS[COMP_CWORD-2]}\" = --set ]; then\n"
         "    path=$prev cur=\"\"\n"
         "  elif [ \"$prev\" = = ] && [ \"${COMP_WORDS[COMP_CWORD-3]}\" = --set ]; then\n"
         "    path=${COMP_WORDS[COMP_CWORD-2]}\n"
         "  fi\n"
         "  if [ -n \"$path\" ]; then\n"
         "    COMPREPLY=($(compgen -W \"$(_vcpusim_set_values \"$path\")\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case \"$prev\" in\n"
         "    --json|--trace|--vcd|--host-trace|-o|--output) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
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
