// The command table (tools/commands.hpp): the general --help, `help --list` (the man page's
// command list) and the bash completion are generated from it, so each must name every command
// and every option that the commands' own --help texts declare.
#include "tools/commands.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "cli_util.hpp"

using vcpusim::test::run_cli;
using vcpusim::test::TempDir;

namespace {

// The long options of a --help text, as program_options prints them.
std::vector<std::string> long_options(const std::string& help) {
  static const std::regex option(R"(^  (?:-\w \[ )?(--[a-z][a-z0-9-]*))");
  std::vector<std::string> out;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option)) out.push_back(m[1].str());
  }
  return out;
}

// The `opts="..."` words of one command's case in the completion script.
std::string completion_options(const std::string& script, const std::string& command) {
  const std::string key = "    " + command + ") opts=\"";
  const auto at = script.find(key);
  if (at == std::string::npos) return "";
  const auto from = at + key.size();
  return " " + script.substr(from, script.find('"', from) - from) + " ";
}

}  // namespace

TEST(Commands, GeneralHelpAndHelpListNameEveryCommandOfTheTable) {
  const auto help = run_cli({"--help"});
  const auto list = run_cli({"help", "--list"});
  ASSERT_EQ(help.status, 0) << help.err;
  ASSERT_EQ(list.status, 0) << list.err;
  std::string expected_list;
  for (const auto& c : vcpusim::tools::commands()) {
    EXPECT_NE(help.out.find("\n  " + std::string(c.name) + " "), std::string::npos) << c.name;
    expected_list += std::string(c.name) + "\n";
  }
  EXPECT_EQ(list.out, expected_list);
}

TEST(Commands, EveryCommandAnswersHelpWithItsOwnUsage) {
  for (const auto& c : vcpusim::tools::commands()) {
    const auto r = run_cli({c.name, "--help"});
    EXPECT_EQ(r.status, 0) << c.name << ": " << r.err;
    EXPECT_NE(r.out.find("usage: vcpusim " + std::string(c.name)), std::string::npos) << r.out;
    const auto via_help = run_cli({"help", c.name});
    EXPECT_EQ(via_help.out, r.out) << c.name;
  }
}

TEST(Commands, CompletionOffersEveryOptionOfEveryFormOfEveryCommand) {
  const auto script = run_cli({"completion"});
  ASSERT_EQ(script.status, 0) << script.err;
  std::size_t checked = 0;
  for (const auto& c : vcpusim::tools::commands()) {
    const std::string offered = completion_options(script.out, c.name);
    ASSERT_FALSE(offered.empty()) << c.name << " has no case in the completion";
    for (const auto& form : c.help_forms) {
      std::vector<std::string> args = {c.name};
      args.insert(args.end(), form.begin(), form.end());
      for (const std::string& o : long_options(run_cli(args).out)) {
        EXPECT_NE(offered.find(" " + o + " "), std::string::npos) << c.name << " " << o;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 40u);  // the premise: the help texts were read
  // The script is valid bash and registers the completion.
  TempDir tmp;
  const auto path = tmp.path() / "completion.bash";
  std::ofstream(path) << script.out;
  const std::string cmd = "bash -c 'source " + path.string() + " && complete -p vcpusim' >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}
