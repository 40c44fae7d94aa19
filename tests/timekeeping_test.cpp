// Timekeeping arithmetic and the seed 001 reproductions (DESIGN.md catalogue, MECHANISMS.md §1).
#include "guest/timekeeping.hpp"

#include <gtest/gtest.h>

#include "scenario_util.hpp"
#include "sim/core/rng.hpp"

using namespace vcpusim;
using vcpusim::test::metric;
using vcpusim::test::run_file;
using vcpusim::test::violations;

TEST(ClockBase, MultChangeKeepsTheLineContinuousAtTheAnchor) {
  sim::Rng rng(3, 1);
  for (int i = 0; i < 1000; ++i) {
    guest::ClockBase b{rng.below(1ULL << 40), 6710886, 24, rng.below(100000),
                       rng.below(1000000000ULL << 24)};
    const std::uint64_t anchor = b.cycle_last + rng.below(100000000);
    const std::int64_t adj = static_cast<std::int64_t>(rng.below(6711)) - 3355;
    guest::ClockBase after = b;
    guest::change_mult_at(after, adj, anchor);
    ASSERT_LE(std::llabs(after.read_ns(anchor) - b.read_ns(anchor)), 1) << "adj " << adj;
    // Past the anchor the lines diverge by (c - anchor) * adj / 2^shift.
    const std::uint64_t later = anchor + 250000000;  // 100 ms at 2.5 GHz
    const double expected = static_cast<double>(250000000) * adj / (1 << 24);
    EXPECT_NEAR(static_cast<double>(after.read_ns(later) - b.read_ns(later)), expected, 2.0);
  }
}

TEST(VdsoTimeBackwards, SplitPublishGoesBackwardsByPublishDelayTimesMultChange) {
  const auto r = run_file("vdso-time-backwards.json");
  EXPECT_TRUE(r.expect_met);
  const auto& list = r.document["violations"];
  // One preemption of VCPU0 per host load window whose publish lands inside the run; the adjtimex
  // schedule lowers the frequency by 500 ppm just before each of them (KernelNtp.* checks the
  // prediction at the reads).
  ASSERT_GE(list.size(), 3u);
  for (const auto& v : list) {
    const auto& d = v["details"];
    ASSERT_TRUE(d.contains("publish_delay_term_ns")) << v.dump();
    const double step = d["backward_step_ns"].get<double>();
    const double predicted = d["publish_delay_term_ns"].get<double>();
    // predicted = publish delay x (mult_old - mult_new) / mult_old
    const double delay = d["publish_delay_ns"].get<double>();
    const double dm = d["mult_old"].get<double>() - d["mult_new"].get<double>();
    EXPECT_NEAR(predicted, delay * dm / d["mult_old"].get<double>(), 1.0);
    EXPECT_GT(delay, 25e6) << "VCPU0 must have been held off by the host for the load window";
    EXPECT_NEAR(step, predicted, 0.10 * predicted) << v["message"];
  }
}

TEST(VdsoTimeBackwards, RaisingMultNeverGoesBackwards) {
  const auto r = run_file("vdso-time-backwards.json", {R"(guest.timekeeping.ntp={"direction": "up", "mult_steps": 3355})"});
  EXPECT_EQ(violations(r, "monotonic_time"), 0u);
  EXPECT_GT(metric(r, "timekeeping.mult_final"), metric(r, "timekeeping.mult_initial"));
}

TEST(VdsoTimeBackwards, IdleHostNeverGoesBackwards) {
  const auto r = run_file("vdso-time-backwards.json", {"host.load=[]"});
  EXPECT_EQ(violations(r, "monotonic_time"), 0u);
  EXPECT_EQ(metric(r, "vcpu0.steal_ns"), 0);
  EXPECT_LT(metric(r, "timekeeping.mult_final"), metric(r, "timekeeping.mult_initial"));
}

TEST(VdsoTimeBackwards, ReanchorFixesItOnTheSameHostBehaviour) {
  const auto broken = run_file("vdso-time-backwards.json");
  const auto fixed = run_file("vdso-time-backwards.json", {"guest.timekeeping.variant=reanchor"});
  EXPECT_EQ(violations(fixed, "monotonic_time"), 0u);
  // Same host behaviour: VCPU0 is kept off its pCPU for as long in both runs.
  EXPECT_EQ(metric(fixed, "vcpu0.steal_ns"), metric(broken, "vcpu0.steal_ns"));
  EXPECT_GT(violations(broken, "monotonic_time"), 0u);
}

TEST(TimekeepingLatency, LegacyHoldsReadersAboutTwiceAsLongAsShadow) {
  // Without pause-loop exits: a reader spinning past the PLE window pays an exit's handling
  // (costs.vm_exit + costs.ple_handler + costs.vm_entry) on top of the hold this test measures
  // (shadow's worst wait 5.2 us with PLE, 3.7 us of hold).
  const auto legacy = run_file("timekeeping-latency.json",
                               {"guest.timekeeping.variant=legacy", "vm.ple_gap=0"});
  const auto shadow = run_file("timekeeping-latency.json",
                               {"guest.timekeeping.variant=shadow", "vm.ple_gap=0"});
  EXPECT_TRUE(legacy.expect_met);
  EXPECT_TRUE(shadow.expect_met);
  const double l = static_cast<double>(metric(legacy, "reader_latency_ns.ktime.vcpu1.max"));
  const double s = static_cast<double>(metric(shadow, "reader_latency_ns.ktime.vcpu1.max"));
  // A reader that arrives as the write section opens waits for all of it. Legacy holds the seqcount
  // over accumulate + ntp_adjust + vsyscall + copy, shadow over vsyscall + copy.
  guest::TimekeepingCosts c;
  const double legacy_hold = static_cast<double>(c.accumulate.value + c.ntp_adjust.value +
                                                 c.vsyscall.value + c.copy.value) /
                             sim::kNanosecond;
  const double shadow_hold =
      static_cast<double>(c.vsyscall.value + c.copy.value) / sim::kNanosecond;
  EXPECT_GT(l, legacy_hold);
  EXPECT_LT(l, legacy_hold * 1.15);
  EXPECT_GT(s, shadow_hold);
  EXPECT_LT(s, shadow_hold * 1.15);
  EXPECT_NEAR(l / s, 2.0, 0.25);  // seed 001: 8 us -> 4 us
}

TEST(Determinism, SameSeedSameBytesOtherSeedOtherFingerprint) {
  const auto a = run_file("vdso-time-backwards.json");
  const auto b = run_file("vdso-time-backwards.json");
  EXPECT_EQ(a.document.dump(2), b.document.dump(2));
  const auto c = run_file("vdso-time-backwards.json", {}, 2);
  EXPECT_NE(a.document["fingerprint"], c.document["fingerprint"]);
  EXPECT_EQ(c.document["seed"], 2);
}
