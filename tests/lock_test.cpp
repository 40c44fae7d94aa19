// Spinlocks under host preemption (issue 9, seed 003, MECHANISMS.md sections 3 and 6). Each test
// is a setup (a scenario), per-CPU bodies (lock_torture on every vCPU), an invariant (the checks)
// and an expected result: a variant that must fail and the fix that must not.
#include <gtest/gtest.h>

#include <iostream>

#include "scenario_util.hpp"
#include "sim/checks/lock_checks.hpp"
#include "sim/core/rng.hpp"

using namespace vcpusim;
using vcpusim::test::metric;
using vcpusim::test::run_file;
using vcpusim::test::violations;

namespace {

const std::vector<std::string> kKinds = {"ticket",      "pvticket", "qspinlock",
                                         "pvqspinlock", "tas",      "mcs"};

std::string set_kind(const std::string& k) {
  return "guest.locks.kind=" + k;
}

std::size_t machine_violations_total(const tools::RunResult& r) {
  return r.document["violations"].size();
}

double number(const tools::RunResult& r, const std::string& name) {
  return r.document["metrics"].at(name).get<double>();
}

// lock_torture on `n` vCPUs pinned one per pCPU, one lock, always contended.
tools::RunResult contended(const std::string& kind, int n) {
  sim::Json pinning = sim::Json::array();
  std::vector<int> vcpus;
  for (int i = 0; i < n; ++i) {
    pinning.push_back({i});
    vcpus.push_back(i);
  }
  sim::Json doc = {{"name", "contended"},
                   {"duration", "5ms"},
                   {"host", {{"pcpus", n}}},
                   {"vm", {{"vcpus", n}, {"pinning", pinning}}},
                   {"guest",
                    {{"locks", {{"kind", kind}}},
                     {"workloads",
                      {{{"kind", "lock_torture"},
                        {"vcpus", vcpus},
                        {"hold", "500ns"},
                        {"hold_dist", "fixed"},
                        {"think", "100ns"}}}}}}};
  auto s = tools::Scenario::from_json(doc, "contended.json");
  return tools::run_scenario(*s);
}

}  // namespace

TEST(MutualExclusionCheck, ReportsASecondHolderAndForgetsAReleasedOne) {
  sim::Violations out;
  sim::MutualExclusionCheck check(out);
  check.acquired(0, "lock0", 1, 10);
  check.released(0, 1);
  check.acquired(0, "lock0", 2, 20);
  EXPECT_EQ(out.count(sim::MutualExclusionCheck::kName), 0u);
  check.acquired(0, "lock0", 3, 30);  // vCPU2 still holds it
  ASSERT_EQ(out.count(sim::MutualExclusionCheck::kName), 1u);
  EXPECT_EQ(out.list()[0].cpus, (std::vector<int>{2, 3}));
}

// Every algorithm keeps mutual exclusion and makes progress while the host preempts holders.
TEST(Locks, EveryKindIsMutuallyExclusiveUnderHostPreemption) {
  for (const auto& kind : kKinds) {
    const auto r = run_file("lock-holder-preemption.json", {set_kind(kind)});
    EXPECT_TRUE(r.expect_met) << kind << ": " << r.document["expect_unmet"].dump();
    EXPECT_EQ(violations(r, "mutual_exclusion"), 0u) << kind;
    EXPECT_EQ(violations(r, "no_hang"), 0u) << kind;
    EXPECT_GT(metric(r, "locks.holder_preemptions"), 0) << kind;
    EXPECT_GT(metric(r, "locks.acquisitions"), 1000) << kind;
  }
}

// Only the paravirt locks halt and kick, one kick per halted waiter (give or take a waiter
// still halted at the end of the run), with pause-loop exiting as shipped (on) and off: under
// PLE a waiter whose yields find nobody to run keeps spinning to its threshold and halts.
TEST(Locks, PvLocksHaltAndAreKickedOthersNever) {
  for (const bool ple : {true, false})
    for (const auto& kind : kKinds) {
      std::vector<std::string> sets = {set_kind(kind)};
      if (!ple) sets.push_back("vm.ple_gap=0");
      const auto r = run_file("lock-holder-preemption.json", sets);
      const std::string where = kind + (ple ? ", PLE on" : ", PLE off");
      const bool pv = kind.rfind("pv", 0) == 0;
      if (pv) {
        EXPECT_GT(metric(r, "locks.halts"), 0) << where;
        EXPECT_NEAR(metric(r, "locks.kicks"), metric(r, "locks.halts"), 6) << where;
      } else {
        EXPECT_EQ(metric(r, "locks.halts"), 0) << where;
        EXPECT_EQ(metric(r, "locks.kicks"), 0) << where;
      }
      if (ple) {
        EXPECT_GT(metric(r, "kvm.ple_exits"), 0) << where;
      }
    }
}

// The slow-then-hash order loses the race every time the preemption lands in its window; the
// mainline order survives the same preemption.
TEST(PvHash, SlowThenHashFailsItsLookupDeterministically) {
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto r = run_file("pv-hash-race.json", {}, seed);
    EXPECT_TRUE(r.expect_met) << r.document["expect_unmet"].dump();
    EXPECT_EQ(violations(r, "hash_lookup"), 1u);
    EXPECT_EQ(violations(r, "mutual_exclusion"), 0u);
  }
}

// And over 100 seeds of random hold times, each with four host preemptions of 50-500 us (the
// holder can unlock meanwhile: holds average 100 us) injected at random shared-memory accesses
// of either vCPU, somewhere in its ~900 of the run. The broken order over the same seeds and
// preemptions is the control that they reach the race window (14 of the 100 lose their lookup
// today), or a clean mainline would prove nothing: the scripted preemption alone misses it.
TEST(PvHash, HashThenSlowIsCleanOver100SeedsWhereSlowThenHashLosesTheRace) {
  const std::string random_holds = "guest.workloads[0].hold_dist=exponential";
  int broken_failed = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    sim::Rng rng(seed, 3);
    tools::RunOptions o;
    for (int k = 0; k < 4; ++k) {
      sim::Injection in;
      in.vcpu = static_cast<int>(rng.below(2));
      in.access = 1 + rng.below(900);
      in.length =
          50 * sim::kMicrosecond + static_cast<sim::Tick>(rng.below(450 * sim::kMicrosecond));
      o.injections.push_back(in);
    }
    auto run = [&](std::vector<std::string> sets) {
      return tools::run_scenario(
          *tools::Scenario::load(test::scenario_path("pv-hash-race.json"), sets, seed), o);
    };
    const auto fixed = run({"guest.locks.pv_hash_order=hash-then-slow", random_holds});
    ASSERT_EQ(machine_violations_total(fixed), 0u) << "seed " << seed;
    if (violations(run({random_holds}), "hash_lookup") > 0) ++broken_failed;
  }
  RecordProperty("slow_then_hash_failing_seeds", broken_failed);
  EXPECT_GE(broken_failed, 1) << "no seed reaches the race window: the clean runs prove nothing";
  std::cout << "slow-then-hash lost its lookup on " << broken_failed << " of the 100 seeds\n";
}

TEST(PvHash, StopAtEmptyLosesTheEntryBehindAFreedSlotProbeUntilFoundDoesNot) {
  const auto broken = run_file("pv-hash-stop-at-empty.json");
  EXPECT_TRUE(broken.expect_met) << broken.document["expect_unmet"].dump();
  EXPECT_GE(violations(broken, "hash_lookup"), 1u);
  // The halted head of lock1 is never kicked.
  EXPECT_GE(violations(broken, "no_lost_wakeup"), 1u);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto fixed = run_file("pv-hash-stop-at-empty.json",
                                {"guest.locks.pv_hash_lookup=probe-until-found"}, seed);
    EXPECT_EQ(machine_violations_total(fixed), 0u) << "seed " << seed;
    EXPECT_GT(metric(fixed, "locks.halts"), 10) << "the heads must halt for the hash to matter";
  }
}

// Each ticket unlock writes the head every waiter spins on: all N-1 of them refetch it, and the
// next taker's xadd moves the line once more, so a ticket acquisition costs 2N-1 transfers. The
// MCS-queued locks hand over through one waiter's own node: flat in N.
TEST(Locks, TicketTransfersGrowWithWaitersQueuedLocksStayFlat) {
  for (int n : {4, 8, 16}) {
    const auto r = contended("ticket", n);
    EXPECT_NEAR(number(r, "locks.transfers_per_acquisition"), 2 * n - 1, 0.05 * (2 * n - 1))
        << n << " waiters";
  }
  for (const char* kind : {"mcs", "qspinlock", "pvqspinlock"}) {
    const double at4 = number(contended(kind, 4), "locks.transfers_per_acquisition");
    const double at16 = number(contended(kind, 16), "locks.transfers_per_acquisition");
    EXPECT_NEAR(at16, at4, 0.1 * at4) << kind;
  }
}
