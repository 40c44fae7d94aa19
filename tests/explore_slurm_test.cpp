// `vcpusim explore slurm` (docs/explore.md "On a Slurm cluster", issue 30): the scripts pass
// every input word (paths, --set values, plugin files) to vcpusim and sbatch as the same bytes,
// run by sh as Slurm would; the jobs carry the user's plugin permission and nothing more; misuse
// is one message, exit 2 and no file; and on a real single-node Slurm (tests/slurm/) the job
// array's merge equals a local explore of the same budget byte for byte (pct).
#include "tools/explore/explore_slurm.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cli_util.hpp"
#include "explore_util.hpp"
#include "slurm_util.hpp"
#include "tools/run/shell_quote.hpp"

using namespace vcpusim;
namespace fs = std::filesystem;

namespace {

using test::CliResult;
using test::run_cli;
using test::sh_quote;
using test::shell;

const std::string kScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/explore/vdso-unplaced.json";
// pct finds vdso-unplaced's failure within this budget (tests/explore_shard_test.cpp).
const std::vector<std::string> kSearch = {"--strategy", "pct", "--schedules", "60"};

using test::files_of;

// The local explore of kSearch into tmp/local, to compare a merge with.
std::map<std::string, std::string> local_explore(const test::TempDir& tmp) {
  std::vector<std::string> a = {"explore", kScenario};
  a.insert(a.end(), kSearch.begin(), kSearch.end());
  a.insert(a.end(), {"-q", "-o", (tmp.path() / "local").string()});
  const CliResult r = run_cli(a);
  EXPECT_EQ(r.status, 1) << r.err;  // the premise: a failure to merge
  const auto files = files_of(tmp.path() / "local");
  EXPECT_GE(files.size(), 2u);
  return files;
}

// Files named canary-* anywhere below `dir`: what a word run by the shell would have made.
std::vector<std::string> canaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& f : fs::recursive_directory_iterator(dir))
    if (f.path().filename().string().rfind("canary", 0) == 0) out.push_back(f.path().string());
  return out;
}

TEST(ExploreSlurm, ScriptsPassHostileWordsAsPlainArguments) {
  test::TempDir t;
  tools::ExploreSlurm e;
  e.dir = (t.path() / "out 'q' $(touch canary-1) `touch canary-2` %j\nnl \\ !x").string();
  e.workdir = (t.path() / "work $(touch canary-3) \"w\" 'w'").string();
  e.scenario = "-scen $(touch canary-4) '.json";
  e.options = {"--strategy=pct", "--set=name=$(touch canary-5)'\"",
               "--plugin=" + (t.path() / "p 'q'/$(touch canary-6).so").string(), "--allow-plugins"};
  e.array_size = 2;
  fs::create_directories(t.path() / "bin");
  fs::create_directories(t.path() / "args");
  fs::create_directories(e.workdir);
  // Stand-ins for vcpusim and sbatch: each writes its arguments (NUL-separated) to a new file.
  const std::string record =
      "#!/bin/sh\nn=$(ls \"$ARGS\" | wc -l)\nprintf '%s\\0' \"$@\" >\"$ARGS/$n\"\n";
  std::ofstream(t.path() / "bin/vcpusim") << record;
  std::ofstream(t.path() / "bin/sbatch") << record << "echo 42\n";
  for (const char* f : {"bin/vcpusim", "bin/sbatch"})
    fs::permissions(t.path() / f, fs::perms::owner_all);
  e.self = (t.path() / "bin/vcpusim").string();
  const std::string submit = tools::write_slurm_job_array(tools::explore_job_array(e));
  EXPECT_EQ(submit, e.dir + "/slurm/submit.sh");
  for (const char* f : {"shard.sbatch", "merge.sbatch", "submit.sh"})
    EXPECT_EQ(shell("sh -n " + sh_quote(e.dir + "/slurm/" + f)), 0) << f;
  const std::string env = "cd " + sh_quote(e.workdir) +
                          " && ARGS=" + sh_quote((t.path() / "args").string()) +
                          " PATH=" + sh_quote((t.path() / "bin").string()) + ":\"$PATH\" ";
  EXPECT_EQ(shell(env + "SLURM_ARRAY_TASK_ID=1 SLURM_CPUS_PER_TASK=3 sh " +
                  sh_quote(e.dir + "/slurm/shard.sbatch")),
            0);
  EXPECT_EQ(shell(env + "sh " + sh_quote(e.dir + "/slurm/merge.sbatch")), 0);
  EXPECT_EQ(shell(env + "sh " + sh_quote(submit) + " >/dev/null"), 0);
  auto args = [&t](int n) {
    std::vector<std::string> out;
    const std::string s = test::read_file(t.path() / ("args/" + std::to_string(n)));
    for (std::size_t at = 0, end; (end = s.find('\0', at)) != std::string::npos; at = end + 1)
      out.push_back(s.substr(at, end - at));
    return out;
  };
  using V = std::vector<std::string>;
  V task = {"explore"};
  task.insert(task.end(), e.options.begin(), e.options.end());
  task.insert(task.end(), {"-j", "3", "--shard", "1/2", "-o", e.dir + "/shard-1",
                           "./" + e.scenario});  // a leading '-' would read as an option
  EXPECT_EQ(args(0), task);
  EXPECT_EQ(args(1), (V{"explore", "merge", "-o", e.dir + "/merged", e.dir + "/shard-0",
                        e.dir + "/shard-1"}));
  std::string logs;  // sbatch reads %j, %a, ... in --output: the directory's own % doubled
  for (char c : e.dir) logs += c == '%' ? std::string("%%") : std::string(1, c);
  EXPECT_EQ(args(2),
            (V{"--parsable", "--chdir=" + e.workdir, "--output=" + logs + "/slurm/shard-%a.out",
               e.dir + "/slurm/shard.sbatch"}));
  EXPECT_EQ(args(3),
            (V{"--parsable", "--chdir=" + e.workdir, "--output=" + logs + "/slurm/merge.out",
               "--dependency=afterany:42", e.dir + "/slurm/merge.sbatch"}));
  EXPECT_EQ(canaries(t.path()), V{});
}

// The jobs load exactly the plugins the command line allowed: --plugin FILE as given, no
// --allow-plugins unless given; a scenario that needs a plugin not allowed is refused here.
TEST(ExploreSlurm, JobsCarryThePluginPermissionAsGiven) {
  test::TempDir t;
  const std::string scenario = std::string(VCPUSIM_SOURCE_DIR) + "/examples/pv_hash_lock.json";
  const std::string so = std::string(VCPUSIM_PLUGIN_DIR) + "/pv_hash_stop.so";
  const std::string dir = (t.path() / "o").string();
  CliResult r = run_cli({"explore", "slurm", scenario, "-o", dir, "--schedules", "20"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_FALSE(fs::exists(dir));
  r = run_cli({"explore", "slurm", scenario, "--plugin", so, "-o", dir, "--array-size", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string shard = test::read_file(dir + "/slurm/shard.sbatch");
  EXPECT_NE(shard.find(" " + tools::shell_quote("--plugin=" + so) + " "), std::string::npos)
      << shard;
  EXPECT_EQ(shard.find("allow-plugins"), std::string::npos) << shard;
  r = run_cli({"explore", "slurm", scenario, "--plugin", so, "--allow-plugins", "-o", dir});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(test::read_file(dir + "/slurm/shard.sbatch").find(" --allow-plugins "),
            std::string::npos);
}

TEST(ExploreSlurm, MisuseIsOneClearMessageAndWritesNothing) {
  test::TempDir t;
  const std::string dir = (t.path() / "o").string();
  auto slurm = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"explore", "slurm", kScenario, "-o", dir};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--first"}, "--first with explore slurm: it would stop one shard"},
      {{"--max-wall", "10s"}, "--max-wall with explore slurm: a wall-clock budget is local"},
      {{"--shard", "0/2"}, "--shard with explore slurm"},
      {{"-j", "2"}, "allowed: --cpus-per-task C"},
      {{"--partition", "a\ntouch canary"}, "a #SBATCH line cannot hold"},
      {{"--time", "1:00 $(touch canary)"}, "a #SBATCH line cannot hold"},
      {{"--array-size", "0"}, "--array-size"},
      {{"--cpus-per-task", "300"}, "--cpus-per-task"},
      {{"--strategy", "nope"}, "--strategy"},
      {{"--set", "no.such.path=1"}, "unknown key \"no\""},
  };
  for (const auto& [extra, message] : cases) {
    const CliResult r = slurm(extra);
    EXPECT_EQ(r.status, 2) << extra[0] << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(dir)) << extra[0];
  }
  CliResult r = run_cli({"explore", "slurm", kScenario});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("needs -o DIR"), std::string::npos) << r.err;
  // A directory of the user's own files is not explore slurm's.
  fs::create_directories(dir);
  std::ofstream(dir + "/notes.txt") << "mine\n";
  r = slurm({});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("not written by vcpusim explore-slurm"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/slurm"));
  EXPECT_EQ(test::read_file(dir + "/notes.txt"), "mine\n");
  EXPECT_EQ(canaries(t.path()), std::vector<std::string>{});
}

// The scripts run by sh here, task by task as Slurm would run them: the merge is the local
// explore. Writing the scripts again into the same DIR replaces them.
TEST(ExploreSlurm, ScriptsRunTheUsersExploreAndMergeToTheLocalOne) {
  test::TempDir t;
  const std::string dir = (t.path() / "out dir with 'quotes' and $HOME").string();
  std::vector<std::string> a = {"explore", "slurm", kScenario, "-o", dir, "--array-size", "3"};
  a.insert(a.end(), kSearch.begin(), kSearch.end());
  for (int again = 0; again < 2; ++again) {
    const CliResult r = run_cli(a);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("60 schedules (pct) in 3 array tasks"), std::string::npos) << r.out;
  }
  EXPECT_NE(test::read_file(dir + "/slurm/shard.sbatch").find("#SBATCH --array=0-2\n"),
            std::string::npos);
  for (const char* i : {"0", "1", "2"})
    EXPECT_LE(shell("SLURM_ARRAY_TASK_ID=" + std::string(i) + " sh " +
                    sh_quote(dir + "/slurm/shard.sbatch") + " >/dev/null 2>&1"),
              1);
  EXPECT_EQ(shell("sh " + sh_quote(dir + "/slurm/merge.sbatch") + " >/dev/null 2>&1"), 1);
  EXPECT_EQ(files_of(dir + "/merged"), local_explore(t));
}

TEST(ExploreSlurm, JobArrayOnARealSingleNodeSlurmEqualsTheLocalExplore) {
  test::TempDir t;
  test::SingleNodeSlurm slurm(t.path() / "slurm");
  if (slurm.status() == 77)
    GTEST_SKIP() << "no Slurm on this machine: " << test::read_file(slurm.log());
  ASSERT_EQ(slurm.status(), 0) << test::read_file(slurm.log());

  const std::string dir = (t.path() / "explore").string();
  std::vector<std::string> a = {"explore", "slurm", kScenario, "-o", dir, "--array-size", "2"};
  a.insert(a.end(), kSearch.begin(), kSearch.end());
  const CliResult r = run_cli(a);
  ASSERT_EQ(r.status, 0) << r.err;
  // submit.sh --wait: sbatch blocks until the merge job (after the whole array) has ended and
  // exits with its status: 1, a failure was found.
  std::string ids;
  const int submitted =
      shell(slurm.env() + "sh " + sh_quote(dir + "/slurm/submit.sh") + " --wait 2>&1", &ids);
  EXPECT_EQ(submitted, 1) << ids << test::read_file(dir + "/slurm/merge.out");
  for (const char* s : {"0", "1"})
    EXPECT_TRUE(fs::exists(dir + "/shard-" + s + "/explore.json")) << s;
  EXPECT_EQ(files_of(dir + "/merged"), local_explore(t));
}

}  // namespace
