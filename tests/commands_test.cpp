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

// The general --help is a two-column table with at least two spaces after every term, which is
// what help2man needs to make each command a term with its paragraph (it ran "timeline TRACE
// show ..." and "metrics [FILE] list ..." together into plain text before).
TEST(Commands, UsageKeepsTwoSpacesAfterEveryTermSoTheManPageListsEachCommand) {
  const std::string usage = vcpusim::tools::usage();
  for (const auto& c : vcpusim::tools::commands()) {
    const std::string term = "\n  " + std::string(c.term) + "  ";
    EXPECT_NE(usage.find(term), std::string::npos) << c.term << " in\n" << usage;
  }
  if (std::system("command -v help2man >/dev/null") != 0)
    GTEST_SKIP() << "help2man is not installed (tools/scripts/setup.sh --tests)";
  TempDir tmp;
  const auto man = tmp.path() / "vcpusim.1.gz";
  const std::string cmd = vcpusim::test::shell_quote(std::string(VCPUSIM_SOURCE_DIR) +
                                                     "/tools/scripts/make_man.sh") +
                          " " + vcpusim::test::shell_quote(VCPUSIM_BINARY) + " " +
                          vcpusim::test::shell_quote(man.string()) + " && gzip -dc " +
                          vcpusim::test::shell_quote(man.string()) + " > " +
                          vcpusim::test::shell_quote((tmp.path() / "vcpusim.1").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string page = vcpusim::test::read_file(tmp.path() / "vcpusim.1");
  for (const auto& c : vcpusim::tools::commands())
    EXPECT_NE(page.find(".TP\n" + std::string(c.term) + "\n"), std::string::npos) << c.term;
}

// --set completes the scenario's paths from its JSON Schema, then the values a path allows; an
// array index of any value finds the [0] entry.
TEST(Commands, CompletionOffersSetPathsAndTheirValuesFromTheSchema) {
  const auto script = run_cli({"completion"});
  ASSERT_EQ(script.status, 0) << script.err;
  TempDir tmp;
  const auto path = tmp.path() / "completion.bash";
  std::ofstream(path) << script.out;
  const auto complete = [&](const std::string& words, int cword) {
    const auto out = tmp.path() / "reply";
    const std::string body = "source " + vcpusim::test::shell_quote(path.string()) +
                             "; COMP_WORDS=(" + words + "); COMP_CWORD=" +
                             std::to_string(cword) + "; _vcpusim; printf '%s\\n' \"${COMPREPLY[@]}\"";
    const std::string cmd = "bash -c " + vcpusim::test::shell_quote(body) + " > " +
                            vcpusim::test::shell_quote(out.string());
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return vcpusim::test::read_file(out);
  };
  EXPECT_EQ(complete("vcpusim run x.json --set guest.timekeeping.vari", 4),
            "guest.timekeeping.variant=\n");
  const std::string kinds = complete("vcpusim run x.json --set 'host.load[3].kind' =", 5);
  for (const char* kind : {"duty\n", "poisson\n", "script\n"})
    EXPECT_NE(kinds.find(kind), std::string::npos) << kinds;
  EXPECT_EQ(complete("vcpusim validate x.json --set 'host.load[0].kind' = po", 6), "poisson\n");
  // Every path the completion offers is one validate accepts: no invented keys.
  const std::string all = complete("vcpusim run x.json --set ''", 4);
  std::istringstream offered(all);
  std::size_t paths = 0;
  for (std::string p; std::getline(offered, p);) ++paths;
  EXPECT_GT(paths, 100u) << all;
  EXPECT_NE(all.find("host.load[0].busy=\n"), std::string::npos);
  EXPECT_NE(all.find("guest.workloads[0].kind=\n"), std::string::npos) << all;
}
