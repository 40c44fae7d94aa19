// `vcpusim metrics` and `vcpusim checks` (tools/run/registry_cli.hpp), the metric names of
// expect blocks and sweep specs checked against the registry before any run, and the warning for
// an explicit checks list that leaves out what the scenario's own variant exists to exercise.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "guest/registries.hpp"
#include "text_file.hpp"
#include "tools/commands.hpp"
#include "tools/run/scenario.hpp"

using namespace vcpusim;
using test::run_cli;

namespace {

const std::string kScenarios = std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A two-vCPU scenario file with a lock_torture workload and `extra` top-level members.
std::string lock_scenario(const std::string& extra) {
  return "{\"name\": \"t\", \"duration\": \"1ms\", \"vm\": {\"vcpus\": 2},\n"
         " \"guest\": {\"locks\": {\"kind\": \"pvqspinlock\", \"pv_hash_order\": "
         "\"slow-then-hash\"},\n"
         "  \"workloads\": [{\"kind\": \"lock_torture\", \"vcpus\": [0, 1]}]}" +
         extra + "}";
}

TEST(MetricsCommand, ListsEveryDeclaredMetricWithItsUnitAndDoc) {
  const auto r = run_cli({"metrics"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "vcpu<N>.steal_ns (ns)")) << r.out;
  EXPECT_TRUE(has(r.out, "time that vCPU was runnable but not running")) << r.out;
  EXPECT_TRUE(has(r.out, "rcu.gp_ns (ns, summary)")) << r.out;
  EXPECT_TRUE(has(r.out, "locks.lock<N>.wait_ns (ns, summary)")) << r.out;
  EXPECT_TRUE(has(r.out, "host.pcpu<N>.load_fraction (fraction)")) << r.out;
}

TEST(MetricsCommand, WithAScenarioListsOnlyTheMetricsOfItsComponents) {
  const auto lock = run_cli({"metrics", kScenarios + "pv-hash-race.json"});
  ASSERT_EQ(lock.status, 0) << lock.err;
  EXPECT_TRUE(has(lock.out, "locks.lock<N>.acquisitions")) << lock.out;
  EXPECT_TRUE(has(lock.out, "vcpu<N>.steal_ns")) << lock.out;
  EXPECT_FALSE(has(lock.out, "rcu.gp_ns")) << lock.out;
  EXPECT_FALSE(has(lock.out, "reader_latency_ns")) << lock.out;
  const auto rcu = run_cli({"metrics", kScenarios + "rcu-grace-period.json"});
  ASSERT_EQ(rcu.status, 0) << rcu.err;
  EXPECT_TRUE(has(rcu.out, "rcu.gp_ns")) << rcu.out;
  EXPECT_FALSE(has(rcu.out, "locks.")) << rcu.out;
  // --set reaches the components built: host noise appears once enabled.
  EXPECT_FALSE(has(lock.out, "host.noise."));
  const auto noisy =
      run_cli({"metrics", kScenarios + "pv-hash-race.json", "--set", "host.noise.enabled=true"});
  EXPECT_TRUE(has(noisy.out, "host.noise.{irq,softirq,kworker,emulator}.events")) << noisy.out;
}

TEST(MetricsCommand, ABadScenarioIsBadInput) {
  const auto r = run_cli({"metrics", kScenarios + "nope.json"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(run_cli({"metrics", "--set", "seed=2"}).status, 2);  // --set without a scenario
}

TEST(ChecksCommand, ListsChecksWithTheirLimitsAndTheVariantsThatExerciseThem) {
  const auto r = run_cli({"checks"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "hash_lookup")) << r.out;
  EXPECT_TRUE(has(r.out, "limit hang_after (default 10ms)")) << r.out;
  EXPECT_TRUE(has(r.out, "exercised by guest.locks.pv_hash_order = \"slow-then-hash\"")) << r.out;
  const auto one = run_cli({"checks", kScenarios + "timekeeping-latency.json"});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_TRUE(has(one.out, "monotonic_time")) << one.out;
  EXPECT_FALSE(has(one.out, "hash_lookup")) << one.out;
}

TEST(ListingCommands, AreInTheCommandTableSoHelpManAndCompletionHaveThem) {
  const std::string usage = tools::usage();
  EXPECT_TRUE(has(usage, "metrics [FILE]")) << usage;
  EXPECT_TRUE(has(usage, "checks [FILE]")) << usage;
  const std::string completion = tools::bash_completion();
  EXPECT_TRUE(has(completion, "metrics) opts=\"--help --set --markdown --plugin\"")) << completion;
  EXPECT_TRUE(has(completion, "checks) opts=\"--help --set --markdown --plugin\"")) << completion;
}

// The case: a typo in expect is refused before the run, with the nearest name and the list.
TEST(ExpectMetricNames, ATypoIsRefusedBeforeTheRunWithTheNearestDeclaredName) {
  test::TempDir t;
  const auto file = t.path() / "typo.json";
  test::write(file,
              lock_scenario(", \"expect\": {\"metrics\": {\"vcpu0.stael_ns\": {\"max\": 1}}}"));
  const auto r = run_cli({"run", file.string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << "nothing ran: " << r.out;
  EXPECT_TRUE(has(r.err, file.string())) << r.err;
  EXPECT_TRUE(has(r.err, "$.expect.metrics.vcpu0.stael_ns")) << r.err;
  EXPECT_TRUE(has(r.err, "\"vcpu0.stael_ns\" is not a metric")) << r.err;
  EXPECT_TRUE(has(r.err, "nearest: \"vcpu<N>.steal_ns\"")) << r.err;
  EXPECT_TRUE(has(r.err, "vcpusim metrics")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message: " << r.err;
  // The same name spelled right runs.
  test::write(file,
              lock_scenario(", \"expect\": {\"metrics\": {\"vcpu0.steal_ns\": {\"min\": 0}}}"));
  EXPECT_EQ(run_cli({"validate", file.string()}).status, 0);
}

TEST(ExpectMetricNames, ANonNumericMetricCannotBeBounded) {
  test::TempDir t;
  const auto file = t.path() / "text.json";
  test::write(file, lock_scenario(", \"expect\": {\"metrics\": {\"locks.kind\": {\"max\": 1}}}"));
  const auto r = run_cli({"validate", file.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "\"locks.kind\" is not a number")) << r.err;
}

// A sweep column typo used to give an empty column, a 0-byte SVG and exit 0.
TEST(SweepMetricNames, ATypoInMetricsOrPlotsIsRefusedBeforeAnyRun) {
  for (const char* key : {"metrics", "plots"}) {
    test::TempDir t;
    const auto spec = t.path() / "spec.json";
    test::write(spec, std::string("{\"name\": \"s\", \"scenario\": \"") + kScenarios +
                          "nmi-time-read.json\", \"seeds\": 1, \"axes\": [{\"name\": \"d\", "
                          "\"path\": \"duration\", \"values\": [\"1ms\"]}], \"" +
                          key + "\": [\"timekeeping.updates\", \"timekeeping.update\"]}");
    const auto r = run_cli({"sweep", spec.string(), "-o", (t.path() / "out").string()});
    EXPECT_EQ(r.status, 2) << key << ": " << r.err;
    EXPECT_TRUE(has(r.err, spec.string())) << r.err;
    EXPECT_TRUE(has(r.err, std::string("$.") + key + "[1]")) << r.err;
    EXPECT_TRUE(has(r.err, "nearest: \"timekeeping.updates\"")) << r.err;
    EXPECT_TRUE(has(r.err, "vcpusim metrics")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(t.path() / "out")) << "no run, no directory";
  }
}

// The registry gives a plot its unit: the y axis of a metric's plot says what it counts in.
TEST(SweepPlots, AMetricsYAxisIsLabelledInItsDeclaredUnit) {
  test::TempDir t;
  const auto spec = t.path() / "spec.json";
  test::write(spec, "{\"name\": \"s\", \"scenario\": \"" + kScenarios +
                        "nmi-time-read.json\", \"seeds\": 1, \"axes\": [{\"name\": \"d\", "
                        "\"path\": \"duration\", \"values\": [\"1ms\", \"2ms\"]}], "
                        "\"plots\": [\"host.pcpu0.load_fraction\", \"sim.steps\"]}");
  const auto out = t.path() / "out";
  const auto r = run_cli({"sweep", spec.string(), "-o", out.string(), "-j", "1"});
  ASSERT_TRUE(r.status == 0 || r.status == 1) << r.err;  // 1: the runs did not meet expect
  const std::string fraction = test::read_file(out / "plots/metric-host_pcpu0_load_fraction.gp");
  EXPECT_TRUE(has(fraction, "set ylabel 'host.pcpu0.load_fraction (fraction)'")) << fraction;
  const std::string steps = test::read_file(out / "plots/metric-sim_steps.gp");
  EXPECT_TRUE(has(steps, "set ylabel 'sim.steps (count)'")) << steps;
}

// The case: slow-then-hash exists to show hash_lookup failures; an explicit list without
// hash_lookup hides them. A warning on stderr, not an error.
TEST(VariantChecks, AnExplicitListWithoutTheSelectedVariantsCheckWarns) {
  test::TempDir t;
  const auto file = t.path() / "hidden.json";
  test::write(file, lock_scenario(", \"checks\": [\"mutual_exclusion\"]"));
  const auto r = run_cli({"validate", file.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.err, "warning")) << r.err;
  EXPECT_TRUE(has(r.err, file.string() + ": $.guest.locks.pv_hash_order")) << r.err;
  EXPECT_TRUE(has(r.err, "\"hash_lookup\"")) << r.err;
  const auto run = run_cli({"run", file.string(), "-q"});
  EXPECT_TRUE(has(run.err, "\"hash_lookup\"")) << run.err;
  // Listed: no warning; no explicit list (every check): none either.
  test::write(file, lock_scenario(", \"checks\": [\"mutual_exclusion\", \"hash_lookup\"]"));
  EXPECT_EQ(run_cli({"validate", file.string()}).err, "");
  test::write(file, lock_scenario(""));
  EXPECT_EQ(run_cli({"validate", file.string()}).err, "");
}

TEST(VariantChecks, EveryVariantNamesARegisteredCheck) {
  const tools::Scenario defaults;
  std::vector<sim::ParamSet::Exercise> relations;
  defaults.guest.exercising("guest", relations);
  ASSERT_GE(relations.size(), 7u);
  const auto checks = guest::builtin_registries().checks.names();
  for (const auto& e : relations)
    EXPECT_NE(std::find(checks.begin(), checks.end(), e.check), checks.end())
        << e.path << " = " << e.choice << " names the unknown check " << e.check;
}

}  // namespace
