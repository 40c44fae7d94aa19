// mmu notifiers with sleeping methods (scenarios/mmu-notifier-sleep.json, seed 004): the rcu
// walk frees a notifier under a sleeping walker; rcu-seqlock and srcu never do; the rcu-seqlock
// fast path writes none of the list's shared words.
#include <gtest/gtest.h>

#include "cpu/machine.hpp"
#include "guest/guest_os.hpp"
#include "scenario_util.hpp"
#include "sim/checks/check_set.hpp"
#include "sim/core/decision.hpp"

using namespace vcpusim;

namespace {

const char* kFile = "mmu-notifier-sleep.json";

}  // namespace

TEST(MmuNotifierSleep, RcuWalkAcrossASleepingMethodUsesAFreedNotifier) {
  const auto r = test::run_file(kFile);
  ASSERT_TRUE(r.expect_met) << r.document["expect_unmet"].dump();
  ASSERT_GE(test::violations(r, "use_after_free"), 1u);
  bool named = false;
  for (const auto& v : r.document["violations"]) {
    if (v["check"] != "use_after_free") continue;
    const auto& d = v["details"];
    // The walker (an invalidating task) reads the next pointer of a notifier an unregistering
    // task freed after its grace period.
    named = d["field"] == "hlist.next" && d["freed_in"] == "mmu_notifier_unregister" &&
            d["task"].get<std::string>().rfind("mmu_notifier_torture.vcpu", 0) == 0 &&
            (d["vcpu"] == 0 || d["vcpu"] == 1) &&
            (d["freed_by_vcpu"] == 2 || d["freed_by_vcpu"] == 3);
    if (named) break;
  }
  EXPECT_TRUE(named) << r.document["violations"][0].dump();
}

class SafeVariant : public ::testing::TestWithParam<std::string> {};

// 100 seeds, each with hundreds of unregisters racing walks whose methods sleep.
TEST_P(SafeVariant, CleanOverAHundredSeeds) {
  std::int64_t unregistered = 0, restarts = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const auto r = test::run_file(
        kFile, {"guest.mmu_notifier.variant=" + GetParam(), "duration=\"20ms\""}, seed);
    ASSERT_EQ(test::violations(r, "use_after_free"), 0u) << "seed " << seed;
    ASSERT_EQ(test::violations(r, "rcu_reader_spans_gp"), 0u) << "seed " << seed;
    ASSERT_EQ(test::violations(r, "no_hang"), 0u) << "seed " << seed;
    ASSERT_GT(test::metric(r, "mmu_notifier.invalidations"), 0) << "seed " << seed;
    unregistered += test::metric(r, "mmu_notifier.unregistered");
    restarts += test::metric(r, "mmu_notifier.walk_restarts");
  }
  EXPECT_GT(unregistered, 500);
  // The seqlock variant's protection is exercised, not idle: walks did restart.
  if (GetParam() == "rcu-seqlock") {
    EXPECT_GT(restarts, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, SafeVariant, ::testing::Values("rcu-seqlock", "srcu"),
                         [](const auto& info) {
                           return info.param == "srcu" ? "srcu" : "rcu_seqlock";
                         });

namespace {

struct Built {
  explicit Built(const std::vector<std::string>& sets) {
    s = tools::Scenario::load(test::scenario_path(kFile), sets);
    machine = std::make_unique<cpu::Machine>(kernel, decisions, s->host, s->vm, s->costs);
    os = std::make_unique<guest::GuestOs>(*machine, s->guest, s->costs.timekeeping, no_checks);
    machine->run(s->duration);
  }
  std::unique_ptr<tools::Scenario> s;
  sim::Kernel kernel;
  sim::RandomDecisionSource decisions{1, kernel.components()};
  std::unique_ptr<cpu::Machine> machine;
  sim::CheckSet no_checks{{}, {}};
  std::unique_ptr<guest::GuestOs> os;
};

}  // namespace

// Seed 004's claim: with no unregister running, the walk only reads. The list head, its
// seqcount and lock, and every notifier keep the writes of their boot-time registration.
TEST(MmuNotifierSleep, SeqlockFastPathWritesNoSharedWord) {
  // The churn workload replaced by one that starts no task (idle): nothing unregisters.
  Built b({"guest.mmu_notifier.variant=rcu-seqlock",
           "guest.workloads[1]={\"kind\": \"idle\", \"vcpus\": [2, 3]}"});
  guest::MmuNotifierList& list = b.os->rcu()->mmu_notifiers();
  guest::GuestObjects& objects = b.os->rcu()->objects();
  sim::Metrics m;
  list.collect_metrics(m);
  ASSERT_GT(m.find("mmu_notifier.invalidations")->get<std::int64_t>(), 100);
  const auto initial = static_cast<std::uint64_t>(b.s->guest.mmu_notifier.initial.value);
  ASSERT_EQ(objects.allocated(), initial);
  EXPECT_EQ(cpu::MemoryInspector::writes(list.head()), initial);  // one publish each
  EXPECT_EQ(cpu::MemoryInspector::writes(list.seq()), 0u);
  EXPECT_EQ(cpu::MemoryInspector::writes(list.lock_word()), 2 * initial);  // lock + unlock each
  for (guest::GuestObjects::Handle h = 1; h <= initial; ++h)
    for (int f : {guest::MmuNotifierList::kOps, guest::MmuNotifierList::kNext})
      EXPECT_EQ(cpu::MemoryInspector::writes(objects.word(h, f)), 2u)  // zeroing + initialising
          << objects.name(h) << " field " << f;
}

// With unregisters, the writer side is what writes: two seqcount writes per unregister.
TEST(MmuNotifierSleep, SeqlockWriterSideWritesTheSeqcountTwicePerUnregister) {
  Built b({"guest.mmu_notifier.variant=rcu-seqlock", "duration=\"30ms\""});
  guest::MmuNotifierList& list = b.os->rcu()->mmu_notifiers();
  sim::Metrics m;
  list.collect_metrics(m);
  const auto unregistered = m.find("mmu_notifier.unregistered")->get<std::uint64_t>();
  ASSERT_GT(unregistered, 10u);
  // An unregister may be between its two writes when the run ends.
  const std::uint64_t w = cpu::MemoryInspector::writes(list.seq());
  EXPECT_GE(w, 2 * unregistered);
  EXPECT_LE(w, 2 * unregistered + 2 * 2);
}
