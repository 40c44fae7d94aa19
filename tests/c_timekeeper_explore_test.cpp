// Seed 001 in C under explore (issue 28): examples/timekeeper.c publishes a clock update in two
// steps; with no host load its own run is clean (examples/timekeeper-unplaced.json), explore
// finds the backward vDSO step by preempting vCPU0 inside the split publish, shrink reduces it,
// run --replay repeats it byte for byte, and the -DFIXED build (one seqcount section) is clean
// over the same schedule budget.
#include <gtest/gtest.h>

#include <filesystem>

#include "sim/config/config.hpp"
#include "tests/cli_util.hpp"

namespace vcpusim {
namespace {

namespace fs = std::filesystem;
using sim::Json;

const std::string kPlugins = VCPUSIM_PLUGIN_DIR;
const std::string kScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/examples/timekeeper-unplaced.json";
const std::string kBudget = "60";  // schedules; the window strategy finds it at schedule 23

test::CliResult explore(const std::string& so, const fs::path& dir) {
  return test::run_cli({"explore", kScenario, "--plugin", so, "--schedules", kBudget, "-o",
                        dir.string(), "--quiet"});
}

TEST(CTimekeeperExplore, ExploreFindsTheSplitPublishShrinkReducesItTheFixIsClean) {
  test::TempDir tmp;
  const std::string buggy = kPlugins + "/timekeeper.so";
  const std::string fixed = kPlugins + "/timekeeper_fixed.so";
  // Nothing places the preemption: the scenario's own run is clean with either build.
  for (const std::string& so : {buggy, fixed})
    EXPECT_EQ(test::run_cli({"run", kScenario, "--plugin", so, "-q"}).status, 0) << so;

  const test::CliResult found = explore(buggy, tmp.path() / "buggy");
  ASSERT_EQ(found.status, 1) << found.err;
  const fs::path replay = tmp.path() / "buggy" / "failure-1.replay.json";
  const Json before = Json::parse(test::read_file(replay));
  EXPECT_NE(before["failure"]["message"].get<std::string>().find("vDSO time went backwards"),
            std::string::npos)
      << before["failure"].dump();
  EXPECT_EQ(explore(fixed, tmp.path() / "fixed").status, 0);

  const fs::path min = tmp.path() / "min.json";
  const test::CliResult s = test::run_cli(
      {"shrink", replay.string(), "-o", min.string(), "--plugin", buggy, "--max-runs", "200"});
  ASSERT_EQ(s.status, 0) << s.err;
  const Json after = Json::parse(test::read_file(min));
  EXPECT_EQ(after["failure"]["signature"], before["failure"]["signature"]);
  EXPECT_LE(after["injections"].size() + after["decisions"].size(),
            before["injections"].size() + before["decisions"].size());

  // The minimal replay, twice: the same bytes (and the recorded fingerprint, or exit 3).
  std::string first;
  for (const char* name : {"a.json", "b.json"}) {
    const fs::path json = tmp.path() / name;
    const test::CliResult r = test::run_cli(
        {"run", "--replay", min.string(), "--plugin", buggy, "--json", json.string(), "-q"});
    EXPECT_EQ(r.status, 1) << r.err;  // the violation
    const std::string text = test::read_file(json);
    EXPECT_NE(text.find("vDSO time went backwards"), std::string::npos);
    if (first.empty())
      first = text;
    else
      EXPECT_EQ(text, first);
  }
}

}  // namespace
}  // namespace vcpusim
