// The command table: every `vcpusim` command once, with the synopsis of the general --help and
// its handler. --help, the man page's command list (make_man.sh reads `vcpusim help --list`) and
// the bash completion (`vcpusim completion`) are generated from it.
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

struct Command {
  const char* name;
  const char* term;     // the first column of the general --help: "run FILE"
  const char* summary;  // its second column, one paragraph (usage() wraps it)
  int (*handler)(const std::vector<std::string>& args);
  // The argument lists whose --help texts together hold every option of the command (a command
  // with sub-forms, like `sweep merge` or `report --diff`, has one list per form).
  std::vector<std::vector<std::string>> help_forms;
  const char* subcommands;  // words the completion offers after the command ("" for none)
};

const std::vector<Command>& commands();

// The general --help: every command's term and summary, in table order.
std::string usage();

// A bash completion script: commands, sub-commands, and each command's options as its --help
// texts declare them.
std::string bash_completion();

}  // namespace vcpusim::tools
