// explore, replay and the decision source behind them (issue 15): every unplaced scenario passes
// on its own and fails on a schedule explore finds; a replay repeats its run byte for byte; the
// default decision source is today's run; -j changes only the speed; injected preemptions are
// invisible to temporal decoupling.
#include "tools/explore/explore.hpp"
#include "tools/explore/explore_cli.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_util.hpp"
#include "decoupling_util.hpp"
#include "explore_util.hpp"
#include "random_scenario.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;
namespace fs = std::filesystem;

namespace {

using test::explore;
using test::explore_path;

std::unique_ptr<tools::Scenario> load(const std::string& name,
                                      const std::vector<std::string>& sets = {}) {
  return tools::Scenario::load(explore_path(name), sets);
}

bool has_check(const tools::ExploreReport& r, const std::string& check) {
  for (const auto& f : r.failures)
    if (f.failure.check == check) return true;
  return false;
}

}  // namespace

// Each unplaced scenario: clean on its own (nothing places the bug), found by pct within a
// budget, never by plain seeds in the same budget where the window is microseconds wide.
TEST(Explore, PctFindsEachUnplacedBugThatTheScenarioAloneDoesNotShow) {
  struct Case {
    const char* file;
    const char* check;
    std::uint64_t budget;
  };
  for (const Case c : {Case{"pv-hash-race-unplaced.json", "hash_lookup", 300},
                       Case{"ipi-deadlock-unplaced.json", "no_deadlock", 100},
                       Case{"nmi-hang-unplaced.json", "no_deadlock", 100}}) {
    const auto s = load(c.file);
    const auto own = tools::run_scenario(*s);
    EXPECT_EQ(own.document["violations"].size(), 0u) << c.file;
    const auto found = explore(*s, "pct", c.budget, true);
    EXPECT_GE(found.first_failure, 1) << c.file;
    EXPECT_TRUE(has_check(found, c.check)) << c.file << ": " << found.to_json().dump(2);
    const auto seeds = explore(*s, "seeds", c.budget);
    EXPECT_EQ(seeds.failing_schedules, 0u) << c.file << ": " << seeds.to_json().dump(2);
  }
}

TEST(Explore, SeedZeroOneFoundInTheUnplacedVdsoScenario) {
  const auto s = load("vdso-unplaced.json");
  EXPECT_EQ(tools::run_scenario(*s).document["violations"].size(), 0u);
  const auto r = explore(*s, "pct", 40, true);
  ASSERT_TRUE(has_check(r, "monotonic_time")) << r.to_json().dump(2);
  // The failing schedule preempts vCPU0 (injected, or by the decided load window).
  const auto& replay = r.failures.front().replay;
  const auto again = tools::run_replay(replay, "vdso replay");
  EXPECT_EQ(again.result.failure.signature, replay.failure.signature);
  EXPECT_EQ(again.result.document["fingerprint"], replay.fingerprint);
}

// The spinlock issue's race, now with no scripted preemption: slow-then-hash fails its lookup,
// hash-then-slow (mainline) is clean in the same budget with the same strategies.
TEST(Explore, FindsThePvHashRaceOnlyWithSlowThenHash) {
  for (const char* strategy : {"window", "pct", "cover"}) {
    const auto buggy = explore(*load("pv-hash-race-unplaced.json"), strategy, 500);
    EXPECT_TRUE(has_check(buggy, "hash_lookup")) << strategy;
    const auto fixed =
        explore(*load("pv-hash-race-unplaced.json", {"guest.locks.pv_hash_order=hash-then-slow"}),
                strategy, 500);
    EXPECT_EQ(fixed.failing_schedules, 0u) << strategy << ": " << fixed.to_json().dump(2);
  }
}

TEST(Explore, SameCommandSameFailuresInTheSameOrderWhateverTheJobs) {
  const auto s = load("pv-hash-race-unplaced.json");
  for (const char* strategy : {"window", "pct", "random", "cover"}) {
    const auto one = explore(*s, strategy, 200, false, 1);
    const auto again = explore(*s, strategy, 200, false, 1);
    const auto two = explore(*s, strategy, 200, false, 2);
    EXPECT_EQ(one.to_json(), again.to_json()) << strategy;
    EXPECT_EQ(one.to_json(), two.to_json()) << strategy;
    ASSERT_EQ(one.failures.size(), two.failures.size());
    for (std::size_t i = 0; i < one.failures.size(); ++i)
      EXPECT_EQ(one.failures[i].replay.to_json(), two.failures[i].replay.to_json());
  }
}

// Replaying every failure explore found gives its recorded fingerprint and signature, and two
// replays give byte-identical result JSON.
TEST(Replay, RepeatsTheExploredRunByteForByte) {
  const auto s = load("pv-hash-race-unplaced.json");
  const auto r = explore(*s, "pct", 400);
  ASSERT_GE(r.failures.size(), 2u);
  for (const auto& f : r.failures) {
    test::TempDir tmp;
    const fs::path file = tmp.path() / "r.json";
    std::ofstream(file) << f.replay.to_json().dump(2);
    const auto loaded = tools::ReplayFile::load(file.string());
    EXPECT_EQ(loaded.to_json(), f.replay.to_json());
    const auto a = tools::run_replay(loaded, file.string());
    const auto b = tools::run_replay(loaded, file.string());
    EXPECT_EQ(a.result.document.dump(), b.result.document.dump());
    EXPECT_EQ(a.result.document["fingerprint"], f.replay.fingerprint);
    EXPECT_EQ(a.result.failure.signature, f.failure.signature);
    // The same through the command line.
    const fs::path json = tmp.path() / "out.json";
    const auto cli =
        test::run_cli({"run", "--replay", file.string(), "--json", json.string(), "-q"});
    EXPECT_EQ(cli.status, 1) << cli.err;
    EXPECT_EQ(sim::Json::parse(test::read_file(json)), a.result.document);
  }
}

// A steer that takes every default changes nothing: the decision source left at its default is
// today's run, for catalogue scenarios with load, ties, timer jitter and locks.
TEST(Replay, AnEmptyScheduleIsTheScenarioItself) {
  for (const char* name : {"pv-hash-race.json", "lock-holder-preemption.json", "ipi-deadlock.json",
                           "nmi-time-read.json", "pv-hash-stop-at-empty.json"}) {
    const auto s = tools::Scenario::load(test::scenario_path(name));
    const auto plain = tools::run_scenario(*s);
    tools::ReplayFile empty;
    empty.scenario = s->resolved();
    const auto replayed = tools::run_replay(empty, name);
    EXPECT_EQ(plain.document.dump(), replayed.result.document.dump()) << name;
  }
}

// A preemption point takes the vCPU's pCPU for exactly its length: a busy vCPU alone on its
// pCPU loses that much to steal time, placed by time or by shared-memory access.
TEST(Injection, APreemptionPointStealsThePcpuForItsLength) {
  const sim::Json j = sim::Json::parse(R"({
    "name": "steal", "duration": "5ms", "host": { "pcpus": 1 },
    "vm": { "vcpus": 1, "pinning": [[0]] },
    "guest": { "workloads": [ { "kind": "busy", "vcpus": [0] } ] }, "checks": [] })");
  const auto s = tools::Scenario::from_json(j, "steal.json");
  const auto base = tools::run_scenario(*s);
  EXPECT_EQ(base.document["metrics"]["vcpu0.steal_ns"], 0);
  for (bool by_time : {true, false}) {
    tools::RunOptions o;
    sim::Injection in;
    in.vcpu = 0;
    in.length = 300 * sim::kMicrosecond;
    if (by_time)
      in.at = sim::kMillisecond;
    else
      in.access = 5;
    o.injections = {in};
    const auto r = tools::run_scenario(*s, o);
    EXPECT_EQ(r.document["metrics"]["vcpu0.steal_ns"], 300000) << by_time;
    EXPECT_NE(r.document["fingerprint"], base.document["fingerprint"]);
  }
}

namespace {
// Takes a random alternative for a quarter of the decisions (ties included).
class RandomSteer final : public sim::Steer {
 public:
  explicit RandomSteer(std::uint64_t seed) : rng_(seed, 99) {}
  std::int64_t decide(const sim::DecisionPoint& p) override {
    if (rng_.below(4) != 0) return p.default_value;
    if (p.kind == sim::DecisionKind::kExponential) return rng_.exponential(p.mean);
    return p.lo +
           static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(p.hi - p.lo) + 1));
  }

 private:
  sim::Rng rng_;
};
}  // namespace

// Temporal decoupling stays invisible with injected preemptions (by time and by access) and
// steered decisions: generated scenarios, both ways, byte-identical result JSON; and it engages
// in every one of them (fewer kernel events than the event path, decoupling_util.hpp).
TEST(Injection, DecouplingIsInvisibleWithInjectionsAndSteeredDecisions) {
  for (std::uint64_t index = 0; index < 40; ++index) {
    sim::Json j = test::RandomScenario(1000 + index).make();
    // The latency ranges are decisions too.
    sim::Rng ranges(11, index);
    for (const char* k : {"ipi_jitter", "halt_wakeup_jitter", "hypercall_jitter"})
      if (ranges.below(2)) j["costs"][k] = std::to_string(1 + ranges.below(3000)) + "ns";
    std::unique_ptr<tools::Scenario> s;
    ASSERT_NO_THROW(s = tools::Scenario::from_json(j, "random.json")) << j.dump(2);
    sim::Rng rng(7, index);
    std::vector<sim::Injection> injections;
    for (int k = 0; k < 3; ++k) {
      sim::Injection in;
      in.vcpu = static_cast<int>(rng.below(static_cast<std::uint64_t>(s->vm.vcpus.value)));
      in.length = 1 + static_cast<sim::Tick>(rng.below(2 * sim::kMillisecond));
      if (rng.below(2))
        in.at = static_cast<sim::Tick>(rng.below(static_cast<std::uint64_t>(s->duration)));
      else
        in.access = 1 + rng.below(2000);
      if (rng.below(4) == 0) in.kind = sim::Injection::Kind::kNmi;
      injections.push_back(in);
    }
    RandomSteer steers[2] = {RandomSteer(index), RandomSteer(index)};  // one per run
    int next = 0;
    const test::BothWays r = test::run_both_ways(*s, [&] {
      tools::RunOptions o;
      o.steer = &steers[next++];
      o.injections = injections;
      return o;
    });
    ASSERT_EQ(r.decoupled.document, r.event_path.document) << "scenario " << index << ":\n"
                                                           << j.dump(2);
    EXPECT_LT(r.decoupled.kernel_events, r.event_path.kernel_events)
        << "scenario " << index << ": decoupling never engaged";
  }
}

TEST(ReplayBadInput, OneClearMessageAndExitTwo) {
  test::TempDir tmp;
  const fs::path not_replay = tmp.path() / "scenario.json";
  std::ofstream(not_replay) << test::read_file(explore_path("pv-hash-race-unplaced.json"));
  auto r = test::run_cli({"run", "--replay", not_replay.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not a replay file"), std::string::npos) << r.err;

  // A decided load phase outside [phase, phase_max].
  tools::ReplayFile bad;
  bad.scenario = load("vdso-unplaced.json")->resolved();
  bad.schedule.decisions[{"load0", "load.phase", 0}] = 1000 * sim::kSecond;
  bad.fingerprint = "0000000000000000";  // the range is checked as the run takes the decision
  const fs::path range = tmp.path() / "range.json";
  std::ofstream(range) << bad.to_json().dump(2);
  r = test::run_cli({"run", "--replay", range.string(), "-q"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("\"load0/load.phase#0\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("outside its range"), std::string::npos) << r.err;

  r = test::run_cli(
      {"run", explore_path("pv-hash-race-unplaced.json"), "--replay", range.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--replay takes the scenario"), std::string::npos) << r.err;

  r = test::run_cli({"explore", explore_path("pv-hash-race-unplaced.json"), "--strategy", "dfs"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("allowed: window, pct, random, cover or seeds"), std::string::npos) << r.err;

  r = test::run_cli(
      {"explore", explore_path("pv-hash-race-unplaced.json"), "--set", "explore.vcpus=[5]"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("$.explore.vcpus[0]"), std::string::npos) << r.err;
}

// The progress line's rate: a scenario slower than a schedule a second reads 0.31, not 0.
TEST(Explore, RateOfASlowScenarioKeepsTwoDigitsNotZero) {
  EXPECT_EQ(vcpusim::tools::schedules_per_second(1, 3.2), "0.31");
  EXPECT_EQ(vcpusim::tools::schedules_per_second(13, 4.59), "2.8");
  EXPECT_EQ(vcpusim::tools::schedules_per_second(300, 3.02), "99");
  EXPECT_EQ(vcpusim::tools::schedules_per_second(5, 0), "-");
}
