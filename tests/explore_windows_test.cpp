// Issue 27's windows: where a preemption can matter, counted from a run (tools/explore/
// windows.hpp), aimed at by the checks in play, placed in by the `window` strategy, and
// reported as what was covered when nothing fails.
#include "tools/explore/windows.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "explore_util.hpp"
#include "tools/explore/explore_strategy.hpp"

using namespace vcpusim;

namespace {

using test::explore_path;

const tools::WindowPass* pass_of(const tools::WindowWatch& w, const std::string& name) {
  for (const tools::WindowPass& p : w.passes())
    if (w.keys()[static_cast<std::size_t>(p.key)] == name) return &p;
  return nullptr;
}

}  // namespace

// Setup: vCPU0 writes lock3.val, reads the private-looking but counted node.7.next, writes
// pv_hash.2.lock, then runs a declared window over one more write. Expected: a pair.write window
// over accesses 2..3, a pair.read window over 3..3, the named window over 4..4, with digit runs
// folded; an uncounted word moves nothing.
TEST(Windows, PairsAndNamedWindowsCoverTheAccessesBetween) {
  cpu::Word lock(0, "lock3.val", 0, 0), next(1, "node.7.next", 1, 0), hash(2, "pv_hash.2.lock", 2, 0),
      priv(3, "private", 3, 0);
  tools::WindowWatch w({"lock3.val", "node.7.next", "pv_hash.2.lock"}, 1, nullptr);
  static constexpr cpu::WindowSite kSite{"lock.slowpath", "pv_wait_head_or_lock"};
  w.access(0, lock, true);
  w.access(0, priv, true);  // not counted: no position, no window
  w.access(0, next, false);
  w.access(0, hash, true);
  w.window(0, kSite, &lock, true, 10);
  w.access(0, lock, true);
  w.window(0, kSite, &lock, false, 30);

  const auto* ww = pass_of(w, "pair.write lock#.val -> pv_hash.#.lock");
  ASSERT_NE(ww, nullptr);
  EXPECT_EQ(ww->first, 2u);
  EXPECT_EQ(ww->last, 3u);
  const auto* rw = pass_of(w, "pair.read node.#.next -> pv_hash.#.lock");
  ASSERT_NE(rw, nullptr);
  EXPECT_EQ(rw->first, 3u);
  EXPECT_EQ(rw->last, 3u);
  const auto* named = pass_of(w, "lock.slowpath pv_wait_head_or_lock(lock#.val)");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->first, 4u);
  EXPECT_EQ(named->last, 4u);
  EXPECT_EQ(named->begin, 10) << "a named pass keeps its time, for points placed by time";
  EXPECT_EQ(named->end, 30);
  EXPECT_TRUE(w.hit().empty()) << "no preemption, no hit";
}

// A preemption at an access (the host acts as the access starts, before it lands: where
// explore's points are placed) is inside the windows that access closes and not in those it
// opens; one inside a declared window hits it.
TEST(Windows, APreemptionHitsTheWindowsItLandsIn) {
  cpu::Word a(0, "a", 0, 0), b(1, "b", 1, 0), c(2, "c", 2, 0);
  static constexpr cpu::WindowSite kSite{"seq.write", "write_seqcount_begin"};
  tools::WindowWatch w({}, 2, nullptr);
  w.access(0, a, true);
  w.access(0, b, true);  // closes pair.write a -> b at access 2 ...
  w.preempted(0);        // ... and the host takes the pCPU before it lands
  EXPECT_EQ(w.hit(), (std::set<std::string>{"pair.write a -> b"}));
  w.access(0, c, false);
  w.preempted(0);  // as the read of c starts: between the writes of b and a, not after c
  w.access(0, a, true);
  EXPECT_TRUE(w.hit().count("pair.write b -> a"));
  EXPECT_FALSE(w.hit().count("pair.read c -> a")) << "c was not read yet";
  w.window(1, kSite, nullptr, true, 0);
  w.preempted(1);
  w.window(1, kSite, nullptr, false, 0);
  EXPECT_TRUE(w.hit().count("seq.write write_seqcount_begin"));
  w.access(1, a, true);
  w.access(1, b, true);
  EXPECT_EQ(w.seen().at("pair.write a -> b"), 2u);
  EXPECT_EQ(w.hit().size(), 3u);
}

// Patterns match a window's kind, site or words, digits folded; the checks in play pick the
// default targets, and a check about every window (no_hang) adds none.
TEST(Windows, TargetsMatchKindSiteOrWordAndFollowTheChecks) {
  EXPECT_EQ(tools::fold_digits("qnode.cpu11.0.locked"), "qnode.cpu#.#.locked");
  const std::string slow = "lock.slowpath pv_wait_head_or_lock(lock#.val)";
  const std::string pair = "pair.write lock#.val -> pv_lock_hash.#.lock";
  EXPECT_TRUE(tools::window_targeted(slow, {"lock.slowpath"}));
  EXPECT_TRUE(tools::window_targeted(slow, {"pv_wait_head*"}));
  EXPECT_TRUE(tools::window_targeted(slow, {"lock0.val"})) << "digits match any digits";
  EXPECT_TRUE(tools::window_targeted(pair, {"pv_lock_hash*"}));
  EXPECT_FALSE(tools::window_targeted(pair, {"tk_core*", "seq.write"}));
  EXPECT_FALSE(tools::window_targeted(slow, {"lock"})) << "a pattern matches a whole field";
  const auto hash = tools::default_targets({"hash_lookup", "no_hang"});
  EXPECT_TRUE(tools::window_targeted(pair, hash));
  EXPECT_TRUE(tools::window_targeted(slow, hash));
  EXPECT_FALSE(tools::window_targeted("tk.update timekeeping_advance", hash));
  EXPECT_TRUE(tools::window_targeted("tk.update timekeeping_advance",
                                     tools::default_targets({"monotonic_time"})));
  EXPECT_TRUE(tools::default_targets({"no_hang", "no_deadlock"}).empty());
}

// The scenario a user writes (12 vCPUs on 8 pCPUs, two poisson loads, seed 003's slow-then-hash
// order, nothing placed). Premise: its own run never takes the racy branch (no queue head gives
// up its spin and hashes itself: the window is not among the run's windows), so a preemption
// must first open it and a second land inside it. Expected: `window` finds hash_lookup within
// 2,000 schedules, and says what it covered; uniform pct does not in the same budget.
TEST(Windows, TheUsersTwelveVcpuPvLockIsFoundByWindowNotByUniformPct) {
  const auto s = tools::Scenario::load(explore_path("users/seed003-pvlock.json"));
  const auto found = test::explore(*s, "window", 2000, true);
  EXPECT_EQ(found.windows_seen.count("lock.slowpath pv_wait_head_or_lock(lock#.val)"), 0u)
      << "premise: the scenario's own run never reaches the racy branch";
  ASSERT_GE(found.first_failure, 0) << found.to_json().dump(2);
  EXPECT_LT(found.first_failure, 2000);
  EXPECT_EQ(found.failures.at(0).failure.check, "hash_lookup");
  EXPECT_FALSE(found.aimed.empty()) << "hash_lookup aims at the lock and hash windows";
  for (const std::string& a : found.aimed)
    EXPECT_TRUE(tools::window_targeted(a, tools::default_targets(s->checks))) << a;
  // The failing schedule's replay reproduces it.
  const tools::ReplayFile& r = found.failures.at(0).replay;
  EXPECT_FALSE(r.schedule.injections.empty());

  const auto uniform = test::explore(*s, "pct", 2000, true);
  EXPECT_EQ(uniform.failing_schedules, 0u)
      << "uniform pct found it at schedule " << uniform.first_failure;
  EXPECT_EQ(uniform.schedules, 2000u);
}

// When nothing fails, the report says what was covered: every window of the scenario's own
// run with its passes, which were aimed at, and how many schedules preempted inside each.
TEST(Windows, NoFailureComesWithWhatWasCovered) {
  const auto s = tools::Scenario::load(explore_path("pv-hash-race-unplaced.json"),
                                       {"guest.locks.pv_hash_order=hash-then-slow"});
  tools::ExploreOptions o;
  o.schedules = 40;
  const auto r = tools::explore(*s, o);
  ASSERT_EQ(r.failing_schedules, 0u);
  const sim::Json j = r.to_json()["windows"];
  ASSERT_FALSE(j["seen"].empty());
  std::uint64_t hit = 0;
  bool slowpath = false;
  for (const auto& w : j["seen"]) {
    EXPECT_GT(w["passes"].get<std::uint64_t>(), 0u) << w.dump();
    EXPECT_LE(w["schedules_hit"].get<std::uint64_t>(), 40u) << w.dump();
    hit += w["schedules_hit"].get<std::uint64_t>();
    slowpath |= w["window"].get<std::string>().rfind("lock.slowpath", 0) == 0;
  }
  EXPECT_TRUE(slowpath) << "the head's slow path is a named window of this run";
  EXPECT_GT(hit, 0u) << "schedules preempted inside windows";
  EXPECT_EQ(j["targets"], sim::Json(tools::default_targets(s->checks)));
}

// A named window with no counted access in it (an RCU reader that touches nothing shared) has no
// position a point could be placed at: no pass (the window strategy once drew an access from an
// empty range there and died of SIGFPE), though a preemption inside it is still a hit.
TEST(Windows, AWindowWithoutAccessesHasNoPassButCanBeHit) {
  static constexpr cpu::WindowSite kRead{"rcu.read", "rcu_read_lock"};
  cpu::Word a(0, "a", 0, 0);
  tools::WindowWatch w({"a"}, 1, nullptr);
  w.access(0, a, true);
  w.window(0, kRead, nullptr, true, 0);
  w.preempted(0);
  w.window(0, kRead, nullptr, false, 0);
  for (const tools::WindowPass& p : w.passes()) EXPECT_LE(p.first, p.last);
  EXPECT_EQ(w.seen().count("rcu.read rcu_read_lock"), 0u);
  EXPECT_TRUE(w.hit().count("rcu.read rcu_read_lock"));
}

// Setup: seed 004 as a user writes it (scenarios/explore/users/seed004-mmu-notifier.json), the
// window strategy aimed by its checks. Invariant: every point lands in a named pass of the
// scenario's own run or a pair window; a named window's points are its first access, its last,
// another of its accesses, or a moment of its time (the walk holding a notifier sleeps in its
// method, when its vCPU runs a task that touches nothing counted), each a fair share. Premise: a
// point placed by time inside the walk does preempt the vCPU inside it (the window is hit).
TEST(Windows, ANamedWindowGetsPointsAtItsFirstAccessAnyAccessAndItsTime) {
  const auto s = tools::Scenario::load(explore_path("users/seed004-mmu-notifier.json"));
  tools::Strategy strategy("window", *s, 1);
  const tools::Outcome own = tools::run_plan(*s, strategy.plan(0), false);
  strategy.set_profile(own.guest_accesses, own.shared_words);
  const tools::WindowProfile profile = tools::window_profile(*s, own.shared_words);
  const std::string walk = "mmu_notifier.walk mn_hlist_invalidate_range_start(mmu_notifier##.ops)";
  const auto aimed = strategy.set_windows(profile, tools::default_targets(s->checks));
  ASSERT_NE(std::find(aimed.begin(), aimed.end(), walk), aimed.end());
  auto named = [&](const tools::WindowPass& p) {
    return profile.keys[static_cast<std::size_t>(p.key)].rfind("pair.", 0) != 0;
  };

  int first = 0, last = 0, other = 0, timed = 0;
  std::optional<tools::Plan> timed_in_walk;
  for (std::uint64_t i = 1; i <= 400; ++i) {
    const tools::Plan plan = strategy.plan(i);
    for (const sim::Injection& in : plan.schedule.injections) {
      if (in.at >= 0) {
        bool inside = false;
        for (const tools::WindowPass& p : profile.passes) {
          if (p.vcpu != in.vcpu || !named(p) || in.at < p.begin || in.at >= p.end) continue;
          inside = true;
          if (profile.keys[static_cast<std::size_t>(p.key)] == walk && !timed_in_walk &&
              plan.schedule.injections.size() == 1)
            timed_in_walk = plan;
        }
        EXPECT_TRUE(inside) << "schedule " << i << ": a moment outside every named pass";
        ++timed;
        continue;
      }
      bool at_first = false, at_last = false, inside = false;
      for (const tools::WindowPass& p : profile.passes) {
        if (p.vcpu != in.vcpu || in.access < p.first || in.access > p.last) continue;
        inside = true;
        at_first |= named(p) && in.access == p.first;
        at_last |= named(p) && in.access == p.last;
      }
      EXPECT_TRUE(inside) << "schedule " << i << ": access " << in.access << " in no window";
      ++(at_first ? first : at_last ? last : other);
    }
  }
  EXPECT_GT(timed, 30);
  EXPECT_GT(first, 30);
  EXPECT_GT(last, 30);
  EXPECT_GT(other, 30);
  ASSERT_TRUE(timed_in_walk.has_value());
  const tools::Outcome hit = tools::run_plan(*s, *timed_in_walk, false);
  EXPECT_NE(std::find(hit.windows_hit.begin(), hit.windows_hit.end(), walk), hit.windows_hit.end())
      << "a moment inside the walk preempted its vCPU elsewhere";
}

// Setup: passes of named windows about objects 7 and 8 on three vCPUs. Expected: an overlap only
// where two vCPUs are inside two different windows about the same object at once, from the
// later entry to the earlier exit, named by the two windows in sorted order; none on one vCPU,
// none across objects, none of a window with itself (two CPUs in one role).
TEST(Windows, AnOverlapIsTwoWindowsAboutOneObjectOpenOnTwoVcpusAtOnce) {
  const std::vector<std::string> keys = {"walk(n#)", "unregister(n#)", "pair.write a -> b"};
  std::vector<tools::WindowPass> passes = {
      {0, 0, 1, 3, 10, 30, 7},  // walk of n7 on vCPU0, 10..30
      {1, 1, 1, 2, 20, 50, 7},  // unregister of n7 on vCPU1, 20..50: overlaps 20..30
      {0, 0, 4, 5, 35, 60, 7},  // walk of n7 on vCPU0 again, 35..60: overlaps 35..50
      {1, 0, 6, 6, 40, 45, 7},  // vCPU0 with itself: none
      {0, 2, 1, 1, 21, 29, 8},  // object 8: alone
      {0, 2, 2, 2, 50, 55, 7},  // vCPU2's walk of n7 with vCPU0's: one window, no overlap
      {2, 1, 3, 4, 0, 0, -1},   // a pair window: no object, no time
  };
  const auto overlaps = tools::window_overlaps(keys, passes, 10);
  ASSERT_EQ(overlaps.size(), 1u);
  const auto& wu = overlaps.at("overlap unregister(n#) & walk(n#)");
  ASSERT_EQ(wu.size(), 2u) << "vCPU1's unregister with vCPU0's is one window with itself";
  EXPECT_EQ(wu[0].a, 0u);
  EXPECT_EQ(wu[0].b, 1u);
  EXPECT_EQ(wu[0].from, 20);
  EXPECT_EQ(wu[0].to, 30);
  EXPECT_EQ(wu[1].a, 1u);
  EXPECT_EQ(wu[1].b, 2u);
  EXPECT_EQ(wu[1].from, 35);
  EXPECT_EQ(wu[1].to, 50);
  EXPECT_EQ(tools::window_overlaps(keys, passes, 1).at("overlap unregister(n#) & walk(n#)").size(),
            1u);
}

// Seed 004 as a user writes it: the walk sleeps in a method holding a notifier, and the bug is an
// unregister of that notifier meanwhile with the walker's vCPU kept off its pCPU across the grace
// period. Premise: the scenario's own run has walks and unregisters of one notifier open at once.
// Expected: `window` finds use_after_free within 2,000 schedules, its failing schedule preempts
// the walker at a moment inside such an overlap; the srcu variant (Linux since 2012) stays clean
// over 300 schedules aimed the same way.
TEST(Windows, TheUsersMmuNotifierUseAfterFreeIsFoundInsideAnOverlap) {
  const auto s = tools::Scenario::load(explore_path("users/seed004-mmu-notifier.json"));
  const std::string overlap =
      "overlap mmu_notifier.unregister mmu_notifier_unregister(mmu_notifier##.ops) & "
      "mmu_notifier.walk mn_hlist_invalidate_range_start(mmu_notifier##.ops)";
  const auto found = test::explore(*s, "window", 2000, true);
  ASSERT_TRUE(found.overlaps.count(overlap)) << found.to_json().dump(2);
  EXPECT_GT(found.overlaps.at(overlap), 0u);
  ASSERT_GE(found.first_failure, 0) << found.to_json().dump(2);
  EXPECT_EQ(found.failures.at(0).failure.check, "use_after_free");

  tools::Strategy strategy("window", *s, 1);
  const tools::Outcome own = tools::run_plan(*s, strategy.plan(0), false);
  const tools::WindowProfile profile = tools::window_profile(*s, own.shared_words);
  const auto instances = tools::window_overlaps(profile.keys, profile.passes, 4096).at(overlap);
  bool inside = false;
  for (const sim::Injection& in : found.failures.at(0).replay.schedule.injections)
    for (const tools::WindowOverlap& o : instances)
      inside |= in.at >= o.from && in.at < o.to &&
                (profile.passes[o.a].vcpu == in.vcpu || profile.passes[o.b].vcpu == in.vcpu);
  EXPECT_TRUE(inside) << found.failures.at(0).replay.to_json().dump(2);

  const auto fixed = tools::Scenario::load(explore_path("users/seed004-mmu-notifier.json"),
                                           {"guest.mmu_notifier.variant=srcu"});
  const auto clean = test::explore(*fixed, "window", 300);
  EXPECT_EQ(clean.failing_schedules, 0u) << clean.to_json().dump(2);
  EXPECT_FALSE(clean.overlaps.empty()) << "the fix was explored at the same kind of moment";
}
