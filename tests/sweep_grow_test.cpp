// Issue 26, sweeps: a finished sweep grows (more seeds or points run only the new runs, which keep
// stable ids), and `sweep --dry-run` shows the plan and touches nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sweep_util.hpp"
#include "text_file.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_runner.hpp"
#include "tools/sweep/sweep_spec.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using nlohmann::json;
using test::run_vcpusim;
using test::run_vcpusim_out;
using test::slurp;
using test::TempDir;
using test::write;

namespace {

const std::string kScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/vdso-time-backwards.json";

// Seed 001 for 40 ms at the given ppm values (one point per value), split-publish.
json spec(int seeds, const std::vector<int>& ppm = {-100}, const std::string& scenario = kScenario,
          const std::string& duration = "40ms") {
  return {{"name", "grow"},
          {"scenario", scenario},
          {"set", {{"duration", duration}}},
          {"axes",
           {{{"name", "ppm"}, {"path", "guest.timekeeping.ntp.schedule[0].ppm"}, {"values", ppm}},
            {{"name", "variant"},
             {"path", "guest.timekeeping.variant"},
             {"values", {"split-publish"}}}}},
          {"seeds", seeds},
          {"metrics", {"checks.monotonic_time.backward_reads", "timekeeping.updates"}}};
}

// Runs the sweep `spec_file` into `dir` through a stand-in binary that counts the child runs it
// starts in `count`; returns the sweep's stdout.
std::string counted_sweep(const TempDir& t, const std::string& spec_file, const std::string& dir) {
  const std::string fake = t / "counting-vcpusim";
  if (!fs::exists(fake)) {
    std::ofstream f(fake);
    f << "#!/bin/sh\necho run >> '" << t / "count"
      << "'\nexec '" << VCPUSIM_BINARY << "' \"$@\"\n";
    f.close();
    fs::permissions(fake, fs::perms::owner_all);
  }
  tools::SweepOptions o;
  o.dir = dir;
  o.jobs = 2;
  o.self = fake;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int code = tools::run_sweep(tools::SweepSpec::load(spec_file), o);
  (void)testing::internal::GetCapturedStderr();
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0) << out;
  return out;
}

std::size_t runs_started(const TempDir& t) {
  const std::string text = slurp(t / "count");
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Every file below `dir` and its content: what a command that writes nothing leaves as it was.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out[e.path().string()] = e.is_regular_file() ? slurp(e.path()) : "<dir>";
  return out;
}

TEST(SweepGrow, GrowingAFinishedSweepRunsOnlyTheNewRunsAndEqualsAFreshSweep) {
  TempDir t;
  write(t / "s2.json", spec(2).dump());
  write(t / "s4.json", spec(4).dump());
  write(t / "s4p2.json", spec(4, {-100, -500}).dump());
  EXPECT_NE(counted_sweep(t, t / "s2.json", t / "grown").find("sweep: 0 runs kept, 2 new (of 2)"),
            std::string::npos);
  ASSERT_EQ(runs_started(t), 2u);
  // Two more seeds: exactly their two runs start; the first two are kept under their ids.
  const std::string out = counted_sweep(t, t / "s4.json", t / "grown");
  EXPECT_NE(out.find("sweep: 2 runs kept, 2 new (of 4)"), std::string::npos) << out;
  EXPECT_EQ(runs_started(t), 4u);
  counted_sweep(t, t / "s4.json", t / "fresh");
  for (const char* f : {"runs.csv", "summary.csv", "sweep.json"})
    EXPECT_EQ(slurp(t / ("grown/" + std::string(f))), slurp(t / ("fresh/" + std::string(f)))) << f;
  // A new point: its four runs, nothing else.
  const std::size_t before = runs_started(t);
  EXPECT_NE(counted_sweep(t, t / "s4p2.json", t / "grown").find("sweep: 4 runs kept, 4 new (of 8)"),
            std::string::npos);
  EXPECT_EQ(runs_started(t), before + 4);
  counted_sweep(t, t / "s4p2.json", t / "fresh2");
  for (const char* f : {"runs.csv", "summary.csv"})
    EXPECT_EQ(slurp(t / ("grown/" + std::string(f))), slurp(t / ("fresh2/" + std::string(f)))) << f;
}

TEST(SweepGrow, ASpecWhoseScenarioOrPointOverridesChangedIsStillRefused) {
  TempDir t;
  write(t / "s2.json", spec(2).dump());
  counted_sweep(t, t / "s2.json", t / "o");
  const auto before = snapshot(t / "o");
  // The same content under another name is another scenario: its runs are not these.
  fs::copy_file(kScenario, t / "copy.json");
  write(t / "other-scenario.json", spec(4, {-100}, t / "copy.json").dump());
  auto e = run_vcpusim({"sweep", t / "other-scenario.json", "-o", t / "o"}, t / "e1.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(": holds runs of a different sweep: its scenario was \"" + kScenario +
                       "\", the spec's is \"" + t / "copy.json" +
                       "\"; allowed: the same spec, or one that adds points or seeds"),
            std::string::npos)
      << e.err;
  // An existing point's overrides changed (the fixed duration applies to every point).
  write(t / "other-duration.json", spec(4, {-100}, kScenario, "41ms").dump());
  e = run_vcpusim({"sweep", t / "other-duration.json", "-o", t / "o"}, t / "e2.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(": holds runs of point (-100, split-publish) with other overrides than "
                       "the spec's"),
            std::string::npos)
      << e.err;
  // Fewer seeds would leave runs no row shows.
  write(t / "s1.json", spec(1).dump());
  e = run_vcpusim({"sweep", t / "s1.json", "-o", t / "o"}, t / "e3.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(": holds runs of seed 2, which the spec no longer has"), std::string::npos)
      << e.err;
  EXPECT_EQ(snapshot(t / "o"), before);
}

TEST(SweepDryRun, DryRunPrintsThePlanWithExistingRunsAndWritesNothing) {
  TempDir t;
  write(t / "s2.json", spec(2).dump());
  write(t / "s3.json", spec(3, {-100, -500}).dump());
  const auto plan = tools::SweepSpec::load(t / "s3.json").resolved();
  // Without a directory: the plan, each run by its id.
  auto e = run_vcpusim_out({"sweep", t / "s3.json", "--dry-run"}, t / "d1.log", t / "d1.out");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("sweep grow: 2 points x 3 seeds = 6 runs (dry run: nothing runs, nothing "
                       "is written)\n"),
            std::string::npos)
      << e.out;
  for (std::size_t run = 0; run < 6; ++run)
    EXPECT_NE(e.out.find(tools::run_id(plan, run) + "  point " + std::to_string(run / 3) +
                         " (ppm=" + (run < 3 ? "-100" : "-500") +
                         ", variant=split-publish)  seed " + std::to_string(run % 3 + 1) + "  new"),
              std::string::npos)
        << e.out;
  // A directory that does not exist is not created.
  e = run_vcpusim_out({"sweep", t / "s3.json", "--dry-run", "-o", t / "absent"}, t / "d2.log",
                      t / "d2.out");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_FALSE(fs::exists(t / "absent"));
  // A sweep directory holding 2 of the runs: they are marked, and nothing in it changes.
  counted_sweep(t, t / "s2.json", t / "o");
  const auto before = snapshot(t / "o");
  e = run_vcpusim_out({"sweep", t / "s3.json", "--dry-run", "-o", t / "o"}, t / "d3.log",
                      t / "d3.out");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("; " + t / "o" + " holds 2, 4 would run"), std::string::npos) << e.out;
  for (std::size_t run = 0; run < 6; ++run)
    EXPECT_NE(e.out.find(tools::run_id(plan, run) + "  point " + std::to_string(run / 3)),
              std::string::npos);
  EXPECT_NE(e.out.find("seed 1  exists\n"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("seed 2  exists\n"), std::string::npos) << e.out;
  EXPECT_EQ(std::count(e.out.begin(), e.out.end(), '\n'), 7) << e.out;
  std::size_t exist = 0;
  for (auto at = e.out.find("  exists\n"); at != std::string::npos;
       at = e.out.find("  exists\n", at + 1))
    ++exist;
  EXPECT_EQ(exist, 2u) << e.out;
  EXPECT_EQ(snapshot(t / "o"), before);
  // A spec the directory's runs are not of is refused as the run would refuse it.
  write(t / "s4d.json", spec(4, {-100}, kScenario, "41ms").dump());
  e = run_vcpusim_out({"sweep", t / "s4d.json", "--dry-run", "-o", t / "o"}, t / "d4.log",
                      t / "d4.out");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_EQ(snapshot(t / "o"), before);
}

}  // namespace
