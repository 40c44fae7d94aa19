// Issue 27's speed: explore's -j workers are forked once (tools/explore/worker_pool.hpp), and a
// schedule that only adds preemption points to the scenario's own run may run forked from it at
// its first point (tools/explore/fork_server.hpp). Both change only the cost: every outcome and
// replay is the one a fresh run gives.
#include "tools/explore/fork_server.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "cli_util.hpp"
#include "explore_util.hpp"
#include "sim/error.hpp"
#include "tools/explore/worker_pool.hpp"

using namespace vcpusim;

namespace {

// The window strategy's plans for a scenario, as explore draws them after its profile.
std::vector<tools::Plan> window_plans(const tools::Scenario& s, tools::Strategy& strategy,
                                      std::uint64_t n) {
  const tools::Outcome profile = tools::run_plan(s, strategy.plan(0), false);
  strategy.set_profile(profile.guest_accesses, profile.shared_words);
  strategy.set_windows(tools::window_profile(s, profile.shared_words), {});
  std::vector<tools::Plan> plans;
  for (std::uint64_t i = 1; i <= n; ++i) plans.push_back(strategy.plan(i));
  return plans;
}

}  // namespace

// Setup: 160 window plans of the pv hash race (points on either vCPU, 1-2 each) and 24 of the NMI
// hang (NMIs at vCPU0's accesses); those with every point at an access (a point at a moment is
// scheduled from the start) run fresh and forked with at most 2 children at once.
// Invariant: the same outcome, field for field (failure, fingerprint, windows hit and opened),
// and the same replay file. Premise: plans were forked, and some failed (a failing run forked
// mid-way is the case that matters).
TEST(ForkServer, OutcomesAreThoseOfFreshRuns) {
  for (const char* file : {"pv-hash-race-unplaced.json", "nmi-hang-unplaced.json"}) {
    const auto s = tools::Scenario::load(test::explore_path(file));
    tools::Strategy strategy("window", *s, 1);
    const auto plans = window_plans(*s, strategy, file[0] == 'p' ? 160 : 24);
    std::vector<tools::Plan> forkable;
    for (const auto& p : plans) {
      bool at_a_moment = false;
      for (const sim::Injection& in : p.schedule.injections) at_a_moment |= in.access == 0;
      if (tools::forkable(*s, p, false))
        forkable.push_back(p);
      else
        EXPECT_TRUE(at_a_moment) << file << " plan " << p.index
                                 << ": a window plan only adds points; placed at accesses, it forks";
    }
    ASSERT_GE(forkable.size(), plans.size() / 3) << file;
    tools::ForkCosts costs;
    const auto forked = tools::run_forked(*s, forkable, strategy.known_windows(), 2, costs);
    ASSERT_EQ(forked.size(), forkable.size());
    EXPECT_GT(costs.forked, 0u) << file << ": premise: children were forked";
    std::size_t failing = 0;
    for (std::size_t i = 0; i < forkable.size(); ++i) {
      const tools::Outcome fresh = tools::run_plan(*s, forkable[i], false, strategy.known_windows());
      EXPECT_EQ(tools::outcome_json(forked[i]), tools::outcome_json(fresh))
          << file << " plan " << forkable[i].index;
      EXPECT_EQ(tools::replay_of(*s, forked[i], "window").to_json(),
                tools::replay_of(*s, fresh, "window").to_json());
      failing += !fresh.failure.signature.empty();
    }
    EXPECT_GT(failing, 0u) << file << ": premise: some forked runs fail";
  }
}

// The whole command, forked always and never: the same explore.json and replay files; the
// failing replay of a forked run repeats it from the start (run --replay checks its fingerprint).
TEST(ForkServer, ExploreIsTheSameForkedOrNotAndItsReplaysRunFromTheStart) {
  const auto s = tools::Scenario::load(test::explore_path("pv-hash-race-unplaced.json"));
  tools::ExploreOptions o;
  o.schedules = 120;
  o.prefix_reuse = tools::ExploreOptions::PrefixReuse::kNever;
  const auto never = tools::explore(*s, o);
  o.prefix_reuse = tools::ExploreOptions::PrefixReuse::kAlways;
  const auto always = tools::explore(*s, o);
  EXPECT_EQ(never.forked_schedules, 0u);
  EXPECT_GT(always.forked_schedules, 100u) << "premise: the schedules ran forked";
  EXPECT_EQ(never.to_json(), always.to_json());
  ASSERT_FALSE(always.failures.empty());
  ASSERT_EQ(never.failures.size(), always.failures.size());
  for (std::size_t i = 0; i < always.failures.size(); ++i)
    EXPECT_EQ(never.failures[i].replay.to_json(), always.failures[i].replay.to_json());

  test::TempDir dir;
  const auto replay = dir.path() / "forked.replay.json";
  std::ofstream(replay) << always.failures[0].replay.to_json().dump(2);
  const test::CliResult r = test::run_cli({"run", "--replay", replay.string(), "-q"});
  EXPECT_EQ(r.status, 1) << "the failure again, with its fingerprint: " << r.err;
}

// Outputs come back in the order of the inputs, from workers forked once for every batch; a
// worker that fails is an error, not a hang.
TEST(WorkerPool, ForkedOnceAnswersInOrderAndReportsAFailingWorker) {
  tools::WorkerPool pool(2, [](const std::string& in) {
    if (in == "boom") throw std::runtime_error("boom");
    return in + ":" + std::to_string(getpid());
  });
  const std::vector<std::string> inputs = {"a", "b", "c", "d", "e"};
  std::set<std::string> pids;
  for (int batch = 0; batch < 3; ++batch) {
    const auto out = pool.run(inputs);
    ASSERT_EQ(out.size(), inputs.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].substr(0, 2), inputs[i] + ":");
      pids.insert(out[i].substr(2));
    }
  }
  EXPECT_EQ(pids.size(), 2u) << "two workers, the same over three batches";
  EXPECT_EQ(pids.count(std::to_string(getpid())), 0u);
  EXPECT_THROW(pool.run({"x", "boom"}), sim::SimError);
}

// A -j line names the explore's shared words by a flag, not by listing them, and reads back to
// the same plan and outcome; a schedule counting other words keeps its list.
TEST(WorkerPool, LinesCarryTheSharedCountedWordsAsOneFlag) {
  const std::vector<std::string> shared = {"lock0.val", "pv_lock_hash.0.lock", "qnode.cpu0.0.next"};
  tools::Plan p;
  p.index = 7;
  p.schedule.counted_words = shared;
  sim::Injection in;
  in.vcpu = 1;
  in.access = 42;
  in.length = 5 * sim::kMicrosecond;
  p.schedule.injections.push_back(in);
  const sim::Json line = tools::plan_json(p, &shared);
  EXPECT_EQ(line["schedule"]["counted_words"], "shared") << line.dump();
  EXPECT_EQ(line.dump().find("pv_lock_hash"), std::string::npos) << line.dump();
  const tools::Plan back = tools::plan_from(sim::Json::parse(line.dump()), &shared);
  EXPECT_EQ(tools::plan_json(back), tools::plan_json(p));

  tools::Plan other = p;
  other.schedule.counted_words = {"lock0.val"};
  EXPECT_EQ(tools::plan_json(other, &shared)["schedule"]["counted_words"],
            sim::Json::array({"lock0.val"}));

  tools::Outcome o;
  o.index = 7;
  o.schedule = p.schedule;
  o.windows_hit = {"pair.write lock#.val -> pv_lock_hash.#.lock"};
  const sim::Json out = tools::outcome_json(o, &shared);
  EXPECT_EQ(out["schedule"]["counted_words"], "shared");
  EXPECT_EQ(tools::outcome_json(tools::outcome_from(sim::Json::parse(out.dump()), &shared)),
            tools::outcome_json(o));
}
