// Issue 22, sweeps: a sweep touches only its own files (a directory it made, marked as such),
// follows no planted link, writes nowhere it reads, refuses a point count that would wrap, and
// every run ends by its deterministic step budget (or, as a safety net, a wall limit that keeps
// it out of the results).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sim/error.hpp"
#include "sweep_util.hpp"
#include "text_file.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_results.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using nlohmann::json;
using test::run_vcpusim;
using test::slurp;
using test::sweep_spec;
using test::TempDir;

namespace {

const std::string kScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/vdso-time-backwards.json";

using vcpusim::test::write;

// The small spec, its scenario given absolutely (so the copy works from anywhere).
std::string small_spec_text(const std::string& scenario = kScenario) {
  json spec = json::parse(slurp(sweep_spec("small.json")));
  spec["scenario"] = scenario;
  return spec.dump(2);
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A sweep killed between creating its marker's temporary and renaming it (a moment the kill test
// of sweep_test.cpp reaches under load) left a directory no sweep could resume. Such a leftover,
// alone, is the sweep's own: removed and the marker written; beside a user's file it is not.
TEST(SweepSafety, AMarkerLeftHalfWrittenByAKilledSweepIsResumed) {
  TempDir t;
  const fs::path dir = t / "killed";
  fs::create_directories(dir);
  const std::string leftover = std::string(".tmp-") + tools::kSweepMarker + ".Xy12ab";
  write(dir / leftover, "");
  ASSERT_EQ(entries(dir), std::vector<std::string>{leftover});  // the premise: not empty
  const std::string real = tools::claim_sweep_dir(dir.string(), {});
  EXPECT_TRUE(tools::is_sweep_dir(real));
  EXPECT_EQ(entries(dir), std::vector<std::string>{tools::kSweepMarker});

  const fs::path mixed = t / "mixed";
  fs::create_directories(mixed);
  write(mixed / leftover, "");
  write(mixed / "notes.txt", "the user's\n");
  EXPECT_THROW((void)tools::claim_sweep_dir(mixed.string(), {}), sim::ConfigError);
  EXPECT_EQ(entries(mixed), (std::vector<std::string>{leftover, "notes.txt"}));
}

// The attack: `sweep -o DIR` into a folder of the user's own files wiped DIR/work.
TEST(SweepSafety, OutputDirectoryItDidNotMakeIsNeverWiped) {
  TempDir t;
  const fs::path project = t / "project";
  fs::create_directories(project / "work");
  write(project / "work" / "notes.txt", "the user's notes\n");
  write(project / "runs.csv", "the user's table\n");
  const auto e = run_vcpusim({"sweep", sweep_spec("small.json"), "-o", project}, t / "p.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(project.string() + ": is not empty and holds no .vcpusim-sweep marker"),
            std::string::npos)
      << e.err;
  EXPECT_EQ(slurp(project / "work" / "notes.txt"), "the user's notes\n");
  EXPECT_EQ(slurp(project / "runs.csv"), "the user's table\n");
  EXPECT_EQ(entries(project), (std::vector<std::string>{"runs.csv", "work"}));
  // A new directory and an empty one become sweep directories, marked as such.
  fs::create_directories(t / "empty");
  for (const char* d : {"new", "empty"}) {
    const auto ok = run_vcpusim({"sweep", sweep_spec("small.json"), "-j", "2", "-o", t / d},
                                t / (std::string(d) + ".log"));
    EXPECT_EQ(ok.code, 0) << ok.err;
    EXPECT_TRUE(tools::is_sweep_dir(t / d)) << d;
  }
}

TEST(SweepSafety, PlantedSymlinkAtATemporaryIsNotFollowed) {
  TempDir t;
  const fs::path dir = t / "out", victim = t / "victim.txt";
  fs::create_directories(dir);
  write(victim, "precious\n");
  // The name the temporary used to have (.tmp-NAME.PID, opened O_TRUNC) and the final name,
  // both planted as links to the victim; and a directory replaced by a link.
  fs::create_symlink(victim, dir / (".tmp-out.txt." + std::to_string(::getpid())));
  fs::create_symlink(victim, dir / "out.txt");
  tools::write_file_durably((dir / "out.txt").string(), "written\n");
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_FALSE(fs::is_symlink(dir / "out.txt"));
  EXPECT_EQ(slurp(dir / "out.txt"), "written\n");
  fs::create_directories(t / "elsewhere");
  fs::create_directory_symlink(t / "elsewhere", dir / "linked");
  EXPECT_THROW(tools::write_file_durably((dir / "linked" / "x").string(), "x"), sim::ConfigError);
  EXPECT_TRUE(fs::is_empty(t / "elsewhere"));

  // A whole sweep resumed after links were planted at its outputs, its plots and its runs:
  // the links are replaced or refused, never written through.
  const std::string sweep_dir = t / "sweep";
  auto e =
      run_vcpusim({"sweep", sweep_spec("small.json"), "-j", "2", "-o", sweep_dir}, t / "1.log");
  ASSERT_EQ(e.code, 0) << e.err;
  const std::string runs_csv = slurp(sweep_dir + "/runs.csv");
  for (const char* f : {"runs.csv", "summary.csv", "plots/violations-monotonic_time.svg",
                        "plots/violations-monotonic_time.gp.log", "runs/.tmp-stale"}) {
    fs::remove(fs::path(sweep_dir) / f);
    fs::create_symlink(victim, fs::path(sweep_dir) / f);
  }
  e = run_vcpusim({"sweep", sweep_spec("small.json"), "-o", sweep_dir}, t / "2.log");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_EQ(slurp(sweep_dir + "/runs.csv"), runs_csv);
  EXPECT_FALSE(fs::is_symlink(sweep_dir + "/runs.csv"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(sweep_dir + "/runs/.tmp-stale")));
  fs::remove_all(sweep_dir + "/runs");
  fs::create_directory_symlink(t / "elsewhere", sweep_dir + "/runs");
  e = run_vcpusim({"sweep", sweep_spec("small.json"), "-o", sweep_dir}, t / "3.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find("is not a directory vcpusim made"), std::string::npos) << e.err;
  EXPECT_TRUE(fs::is_empty(t / "elsewhere"));
}

// 4 axes of 65536 values are 2^64 points: the count wrapped to 0 and the sweep ran nothing,
// exit 0. So did 8 axes of 256.
TEST(SweepSafety, PointCountOverflowIsRefused) {
  TempDir t;
  json wide = json::parse(small_spec_text());
  wide["axes"] = json::array();
  json values = json::array();
  for (int v = 0; v < 65536; ++v) values.push_back(v);
  for (int a = 0; a < 4; ++a)
    wide["axes"].push_back(
        {{"name", "a" + std::to_string(a)}, {"path", "seed"}, {"values", values}});
  write(t / "wide.json", wide.dump());
  json deep = json::parse(small_spec_text());
  deep["axes"] = json::array();
  for (int a = 0; a < 8; ++a)
    deep["axes"].push_back({{"name", "a" + std::to_string(a)},
                            {"path", "seed"},
                            {"range", {{"from", 1}, {"to", 256}, {"step", 1}}}});
  write(t / "deep.json", deep.dump());
  const std::pair<const char*, const char*> cases[] = {
      {"wide.json", "65536 values of a0 x 65536 values of a1"},
      {"deep.json", "256 values of a0 x 256 values of a1 x 256 values of a2"}};
  for (const auto& [spec, factors] : cases) {
    const auto e = run_vcpusim({"sweep", t / spec, "-o", t / "out"}, t / "o.log");
    EXPECT_EQ(e.code, 2) << spec << ": " << e.err;
    EXPECT_NE(e.err.find(t / spec + ": $: " + factors +
                         " are more than 1000000 runs; allowed: at most 1000000 runs (points x "
                         "seeds)"),
              std::string::npos)
        << e.err;
    EXPECT_FALSE(fs::exists(t / "out")) << spec;
  }
}

// The run of 1000 s would take hours; its budget stops it at the same step every time, and the
// record says so. The short point beside it is a normal row.
TEST(SweepSafety, PathologicalPointEndsByItsBudget) {
  TempDir t;
  std::vector<std::map<std::string, json>> records(2);
  for (int i = 0; i < 2; ++i) {
    const std::string dir = t / ("o" + std::to_string(i));
    const auto e =
        run_vcpusim({"sweep", sweep_spec("pathological.json"), "-j", "2", "-o", dir}, dir + ".log");
    ASSERT_EQ(e.code, 0) << e.err;
    EXPECT_NE(e.err.find("1 runs failed"), std::string::npos) << e.err;
    for (int run = 0; run < 2; ++run) {
      const json plan = tools::read_plan(dir + "/sweep.json");
      json r = json::parse(slurp(dir + "/runs/" + tools::record_name(tools::run_id(plan, run))));
      r.erase("wall_seconds");  // the only field that may differ
      r.erase("checksum");      // covers wall_seconds
      records[i][std::to_string(run)] = r;
    }
  }
  EXPECT_EQ(records[0], records[1]);
  const json& fast = records[0]["0"];
  const json& stopped = records[0]["1"];
  EXPECT_TRUE(fast["status"] == "met" || fast["status"] == "not-met") << fast;
  EXPECT_EQ(stopped["status"], "budget-exceeded") << stopped;
  EXPECT_EQ(
      stopped["error"].get<std::string>().rfind("budget exceeded: stopped after run_budget ", 0),
      0u)
      << stopped;
  EXPECT_TRUE(stopped["metrics"].empty());
  EXPECT_EQ(slurp(t / "o0/runs.csv"), slurp(t / "o1/runs.csv"));
}

// The wall limit is only a safety net: the run it kills (1000 s of simulated time without a
// budget: hours) is not a result, and the sweep says it is incomplete (exit 1) instead of
// recording anything wall-clock dependent.
TEST(SweepSafety, RunOverItsWallLimitIsKilledAndNotRecorded) {
  TempDir t;
  json spec = json::parse(slurp(sweep_spec("pathological.json")));
  spec["scenario"] = kScenario;
  spec["axes"][0]["values"] = {"1000s"};
  spec["run_budget"] = INT64_MAX;
  write(t / "spec.json", spec.dump());
  const auto e =
      run_vcpusim({"sweep", t / "spec.json", "--max-run-wall", "1s", "-o", t / "o"}, t / "o.log");
  EXPECT_EQ(e.code, 1) << e.err;
  EXPECT_NE(e.err.find("1 runs took longer than --max-run-wall 1s and were killed"),
            std::string::npos)
      << e.err;
  EXPECT_TRUE(fs::is_empty(t / "o/runs"));
  EXPECT_EQ(slurp(t / "o/runs.csv").find('\n') + 1, slurp(t / "o/runs.csv").size());  // header
}

TEST(SweepSafety, OutputMayNotBeItsOwnInput) {
  TempDir t;
  // The spec inside the output directory.
  const fs::path project = t / "project";
  fs::create_directories(project);
  write(project / "spec.json", small_spec_text());
  auto e = run_vcpusim({"sweep", project / "spec.json", "-o", project}, t / "1.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(", an input of this sweep"), std::string::npos) << e.err;
  EXPECT_EQ(entries(project), std::vector<std::string>{"spec.json"});
  // The scenario inside a sweep directory's work/, which every sweep renews.
  const std::string dir = t / "sweep";
  e = run_vcpusim({"sweep", sweep_spec("small.json"), "-j", "2", "-o", dir}, t / "2.log");
  ASSERT_EQ(e.code, 0) << e.err;
  fs::copy_file(kScenario, dir + "/work/base.json");
  write(t / "spec2.json", small_spec_text(dir + "/work/base.json"));
  e = run_vcpusim({"sweep", t / "spec2.json", "-o", dir}, t / "3.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find("holds " + dir + "/work/base.json, an input of this sweep"),
            std::string::npos)
      << e.err;
  EXPECT_EQ(slurp(dir + "/work/base.json"), slurp(kScenario));
  // Through a link to the directory: the same directory.
  fs::create_directory_symlink(dir, t / "link");
  e = run_vcpusim({"sweep", t / "spec2.json", "-o", t / "link"}, t / "4.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_EQ(slurp(dir + "/work/base.json"), slurp(kScenario));
}

}  // namespace
