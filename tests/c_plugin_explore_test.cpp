// C guest code under explore, shrink and run --replay (docs/c-guest-code.md): explore finds the
// stop-at-empty hash lookup failure of examples/pv_hash_lock.c built with -DSTOP_AT_EMPTY,
// shrink reduces it, run --replay repeats it byte for byte, and the probe-until-found build is
// clean over the same budget. A replay loads its plugins only with the command line's permission
// and refuses another build of them; the MCS example keeps mutual exclusion under lock_torture.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plugin/loaded_plugin.hpp"
#include "plugin/plugin_set.hpp"
#include "tests/cli_util.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim {
namespace {

namespace fs = std::filesystem;
using sim::Json;

const std::string kPlugins = VCPUSIM_PLUGIN_DIR;
const std::string kStopSo = kPlugins + "/pv_hash_stop.so";
const std::string kProbeSo = kPlugins + "/pv_hash_lock.so";
const std::string kPvScenario = std::string(VCPUSIM_SOURCE_DIR) + "/examples/pv_hash_lock.json";
const std::string kBudget = "200";  // schedules
// The signature's start (it goes on with the source file's path: __FILE__).
const std::string kFailure =
    "guest_assert: pv_unhash: no hash entry for a lock whose waiter is "
    "halted at ";

// explore of the C pv lock with the plugin at `so`, into `dir`.
test::CliResult explore(const std::string& so, const fs::path& dir) {
  return test::run_cli({"explore", kPvScenario, "--plugin", so, "--schedules", kBudget, "-o",
                        dir.string(), "--quiet"});
}

// The stop-at-empty build, copied into `tmp` (so a test may replace it), explored there.
struct Explored {
  fs::path so, dir, replay;
};
Explored explore_stop_at_empty(const test::TempDir& tmp) {
  Explored e{tmp.path() / "pv_hash_stop.so", tmp.path() / "out", {}};
  fs::copy_file(kStopSo, e.so);
  const test::CliResult r = explore(e.so.string(), e.dir);
  EXPECT_EQ(r.status, 1) << r.err;
  e.replay = e.dir / "failure-1.replay.json";
  return e;
}

TEST(CPluginExplore, TheScenariosOwnRunIsCleanWithEitherBuild) {
  for (const std::string& so : {kStopSo, kProbeSo}) {
    const test::CliResult r = test::run_cli({"run", kPvScenario, "--plugin", so});
    EXPECT_EQ(r.status, 0) << so << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("violations: guest_assert 0 mutual_exclusion 0 no_hang 0"),
              std::string::npos)
        << r.out;
  }
}

TEST(CPluginExplore, ExploreFindsTheStopAtEmptyLookupFailureAndReplayRepeatsIt) {
  test::TempDir tmp;
  const Explored e = explore_stop_at_empty(tmp);
  const Json replay = Json::parse(test::read_file(e.replay));
  EXPECT_EQ(replay["failure"]["signature"].get<std::string>().rfind(kFailure, 0), 0u)
      << replay["failure"].dump();
  ASSERT_EQ(replay["plugins"].size(), 1u) << replay.dump();
  EXPECT_EQ(replay["plugins"][0]["path"], fs::canonical(e.so).string());
  EXPECT_EQ(replay["plugins"][0]["fnv1a64"], plugin::file_hash(e.so.string()));
  EXPECT_FALSE(replay["scenario"].contains("plugins"));
  // Byte for byte, twice (run --replay also checks the recorded fingerprint: exit 3 otherwise).
  std::string first;
  for (const char* name : {"a.json", "b.json"}) {
    const fs::path json = tmp.path() / name;
    const test::CliResult r = test::run_cli({"run", "--replay", e.replay.string(), "--plugin",
                                             e.so.string(), "--json", json.string(), "-q"});
    EXPECT_EQ(r.status, 1) << r.err;  // the violation
    const std::string text = test::read_file(json);
    EXPECT_NE(text.find("pv_unhash: no hash entry"), std::string::npos);
    if (first.empty()) first = text;
    EXPECT_EQ(text, first);
  }
}

TEST(CPluginExplore, ShrinkReducesTheFailureAndItsMinimalReplayRepeatsIt) {
  test::TempDir tmp;
  const Explored e = explore_stop_at_empty(tmp);
  const fs::path min = tmp.path() / "min.json";
  const test::CliResult s = test::run_cli({"shrink", e.replay.string(), "-o", min.string(),
                                           "--plugin", e.so.string(), "--max-runs", "300"});
  ASSERT_EQ(s.status, 0) << s.err;
  const Json before = Json::parse(test::read_file(e.replay));
  const Json after = Json::parse(test::read_file(min));
  EXPECT_EQ(after["failure"]["signature"], before["failure"]["signature"]);
  EXPECT_EQ(after["plugins"], before["plugins"]);
  EXPECT_LE(after["injections"].size() + after["decisions"].size(),
            before["injections"].size() + before["decisions"].size());
  EXPECT_LE(sim::parse_duration(after["scenario"]["duration"].get<std::string>()),
            sim::parse_duration(before["scenario"]["duration"].get<std::string>()));
  const test::CliResult r =
      test::run_cli({"run", "--replay", min.string(), "--allow-plugins", "-q"});
  EXPECT_EQ(r.status, 1) << r.err;
}

TEST(CPluginExplore, ProbeUntilFoundIsCleanOverTheSameBudget) {
  test::TempDir tmp;
  const test::CliResult r =
      test::run_cli({"explore", kPvScenario, "--plugin", kProbeSo, "--schedules", kBudget});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no failure found"), std::string::npos) << r.out;
}

TEST(CPluginExplore, ReplayLoadsItsPluginsOnlyWithTheCommandLinesPermission) {
  test::TempDir tmp;
  const Explored e = explore_stop_at_empty(tmp);
  const std::string so = fs::canonical(e.so).string();
  for (const char* command : {"run", "shrink"}) {
    std::vector<std::string> args = {command};
    if (std::string(command) == "run")
      args.insert(args.end(), {"--replay", e.replay.string()});
    else
      args.insert(args.end(), {e.replay.string(), "-o", (tmp.path() / "m.json").string()});
    const test::CliResult r = test::run_cli(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find(e.replay.string() + ": $.plugins[0]: the replay names plugin " + so +
                         ", which is code that would run with your rights; allowed: load it by "
                         "giving --allow-plugins (every plugin the replay names, from its "
                         "recorded path) or --plugin " +
                         so),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(test::run_cli({"run", "--replay", e.replay.string(), "--allow-plugins", "-q"}).status,
            1);
  // A copy elsewhere with the recorded content is the same plugin.
  const fs::path copy = tmp.path() / "elsewhere.so";
  fs::copy_file(e.so, copy);
  EXPECT_EQ(
      test::run_cli({"run", "--replay", e.replay.string(), "--plugin", copy.string(), "-q"}).status,
      1);
  // explore, like run, loads what a scenario names only when allowed.
  const test::CliResult x = test::run_cli(
      {"explore", kPvScenario, "--set", "plugins=[\"" + so + "\"]", "--schedules", "2"});
  EXPECT_EQ(x.status, 2);
  EXPECT_NE(x.err.find("$.plugins names plugin " + so +
                       ", which is code that would run with "
                       "your rights"),
            std::string::npos)
      << x.err;
}

TEST(CPluginExplore, ReplayRefusesAnotherBuildOfItsPluginNamingBothHashes) {
  test::TempDir tmp;
  const Explored e = explore_stop_at_empty(tmp);
  const std::string recorded = plugin::file_hash(e.so.string());
  const std::string other = plugin::file_hash(kProbeSo);
  ASSERT_NE(recorded, other);
  const std::string so = fs::canonical(e.so).string();
  // The probe-until-found build under the recorded file's name, given with --plugin ...
  const fs::path rebuilt = tmp.path() / "rebuilt" / "pv_hash_stop.so";
  fs::create_directories(rebuilt.parent_path());
  fs::copy_file(kProbeSo, rebuilt);
  test::CliResult r =
      test::run_cli({"run", "--replay", e.replay.string(), "--plugin", rebuilt.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(
      r.err.find(e.replay.string() + ": $.plugins[0]: the run was recorded with plugin " + so +
                 " of content hash (fnv1a64) " + recorded + ", but --plugin " + rebuilt.string() +
                 " has content hash " + other + ": another build of the plugin"),
      std::string::npos)
      << r.err;
  // ... or replacing the recorded file, loaded with --allow-plugins.
  fs::copy_file(kProbeSo, e.so, fs::copy_options::overwrite_existing);
  r = test::run_cli({"run", "--replay", e.replay.string(), "--allow-plugins"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("but " + so + " has content hash " + other), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// The MCS example under lock_torture with host preemption: mutual exclusion holds, every
// acquisition is released, and no C assertion fires.
TEST(CPluginExplore, McsLockKeepsMutualExclusionUnderLockTorture) {
  plugin::PluginSet plugins;
  plugins.load(kPlugins + "/mcs_lock.so");
  const auto s = tools::Scenario::load(
      std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/lock-holder-preemption.json",
      {"guest.locks.kind=c:mcs", "expect={}",
       "checks=[\"mutual_exclusion\", \"guest_assert\", \"no_deadlock\"]"},
      std::nullopt, plugins.registries());
  const auto r = tools::run_scenario(*s);
  const Json& m = r.document["metrics"];
  EXPECT_GT(m["locks.acquisitions"].get<double>(), 1000);
  EXPECT_GT(m["locks.holder_preemptions"].get<double>(), 0);
  EXPECT_EQ(r.document["violation_counts"]["mutual_exclusion"], 0);
  EXPECT_EQ(r.document["violation_counts"]["guest_assert"], 0) << r.document["violations"];
  EXPECT_EQ(r.document["violation_counts"]["no_deadlock"], 0);
}

}  // namespace
}  // namespace vcpusim
