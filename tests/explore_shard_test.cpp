// explore --shard I/N and explore merge (docs/explore.md "Shards", issue 30): for the strategies
// without feedback the shards' merge is the local explore of the same budget, file for file and
// byte for byte, whatever the shard count (3 for pct, 2 for random) and the order the
// directories are given in; the strategies that learn merge deterministically; every misuse is
// one clear message.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "cli_util.hpp"
#include "explore_util.hpp"

using namespace vcpusim;
namespace fs = std::filesystem;

namespace {

using test::CliResult;
using test::run_cli;

using test::files_of;

// Runs `shards` shards of the explore `args` into tmp/<name>-shard-I and merges them (in
// reverse order) into tmp/<name>-merged; returns the merged directory.
fs::path sharded(const test::TempDir& tmp, const std::string& name,
                 const std::vector<std::string>& args, int shards) {
  std::vector<std::string> merge = {"explore", "merge", "-o",
                                    (tmp.path() / (name + "-merged")).string()};
  for (int i = shards - 1; i >= 0; --i) {
    const fs::path dir = tmp.path() / (name + "-shard-" + std::to_string(i));
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--shard", std::to_string(i) + "/" + std::to_string(shards), "-q", "-o",
                       dir.string()});
    const CliResult r = run_cli(a);
    EXPECT_LE(r.status, 1) << r.err;
    merge.push_back(dir.string());
  }
  const CliResult m = run_cli(merge);
  EXPECT_LE(m.status, 1) << m.err;
  return tmp.path() / (name + "-merged");
}

}  // namespace

TEST(ExploreShards, MergeIsTheLocalExploreByteForByteForStrategiesWithoutFeedback) {
  test::TempDir tmp;
  const std::string scenario = test::explore_path("vdso-unplaced.json");
  // pct finds failures here within the budget (the premise: replay files to merge); random
  // does not, and its merge still sums the windows hit, shard by shard.
  for (const char* strategy : {"pct", "random"}) {
    const std::vector<std::string> args = {"explore", scenario,      "--strategy",
                                           strategy,  "--schedules", "60"};
    const fs::path local = tmp.path() / (std::string(strategy) + "-local");
    std::vector<std::string> a = args;
    a.insert(a.end(), {"-q", "-o", local.string()});
    ASSERT_LE(run_cli(a).status, 1);
    const auto expected = files_of(local);
    if (std::string(strategy) == "pct") {
      ASSERT_GE(expected.size(), 2u) << expected.at("explore.json");
    }
    for (int shards :
         std::string(strategy) == "pct" ? std::vector<int>{2, 5} : std::vector<int>{3}) {
      const fs::path merged =
          sharded(tmp, std::string(strategy) + "-" + std::to_string(shards), args, shards);
      EXPECT_EQ(files_of(merged), expected) << strategy << " in " << shards << " shards";
    }
  }
}

// window and cover learn from the schedules they ran, so each shard learns from its own: their
// merge is not a local run's, but it is a function of the command (the same shards give the same
// merge) and it accounts for the whole budget.
TEST(ExploreShards, LearningStrategiesMergeDeterministically) {
  test::TempDir tmp;
  for (const char* strategy : {"window", "cover"}) {
    const std::vector<std::string> args = {
        "explore",     test::explore_path("pv-hash-race-unplaced.json"),
        "--strategy",  strategy,
        "--schedules", "48"};
    const auto first = files_of(sharded(tmp, std::string(strategy) + "-a", args, 3));
    const auto again = files_of(sharded(tmp, std::string(strategy) + "-b", args, 3));
    EXPECT_EQ(first, again) << strategy;
    const auto doc = sim::Json::parse(first.at("explore.json"));
    EXPECT_EQ(doc["schedules"], 48) << strategy;
    EXPECT_FALSE(doc.contains("shard"));
  }
}

TEST(ExploreShards, MisuseIsOneClearMessage) {
  test::TempDir tmp;
  const std::string scenario = test::explore_path("vdso-unplaced.json");
  auto shard = [&](const std::string& spec, const std::string& dir,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"explore", scenario, "--schedules",
                                  "6",       "-q",     "--shard",
                                  spec,      "-o",     (tmp.path() / dir).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  auto expect_bad = [](const CliResult& r, const std::string& message) {
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  };
  expect_bad(shard("3/3", "x"), "--shard");
  expect_bad(shard("1/0", "x"), "--shard");
  expect_bad(shard("two", "x"), "allowed: I/N");
  expect_bad(shard("1/3", "x", {"--first"}), "--first with --shard");
  expect_bad(shard("1/3", "x", {"--max-wall", "10s"}), "--max-wall with --shard");
  expect_bad(run_cli({"explore", scenario, "--shard", "1/2"}), "--shard needs -o DIR");

  ASSERT_LE(shard("0/3", "s1").status, 1);
  ASSERT_LE(shard("1/3", "s2").status, 1);
  const std::string s1 = (tmp.path() / "s1").string(), s2 = (tmp.path() / "s2").string();
  const std::string out = (tmp.path() / "merged").string();
  expect_bad(run_cli({"explore", "merge", "-o", out, s1, s2}), "shard(s) 2 of 3 missing");
  expect_bad(run_cli({"explore", "merge", "-o", out, s1, s1}), "is also");
  ASSERT_LE(run_cli({"explore", scenario, "--schedules", "7", "-q", "--shard", "2/3", "-o",
                     (tmp.path() / "s3").string()})
                .status,
            1);
  expect_bad(run_cli({"explore", "merge", "-o", out, s1, s2, (tmp.path() / "s3").string()}),
             "a shard of another explore");
  // A local explore's directory is not a shard's.
  ASSERT_LE(run_cli({"explore", scenario, "--schedules", "6", "-q", "-o",
                     (tmp.path() / "local").string()})
                .status,
            1);
  expect_bad(run_cli({"explore", "merge", "-o", out, (tmp.path() / "local").string()}),
             "without \"shard\"");
  expect_bad(run_cli({"explore", "merge", "-o", out, (tmp.path() / "nothing").string()}),
             "cannot be read");
  EXPECT_FALSE(fs::exists(tmp.path() / "merged" / "explore.json"));
}
