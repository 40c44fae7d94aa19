// The timekeeping laws (guest/timekeeping_laws.hpp) that the model computes with and the scenario
// check and the sweep's closed form predict with, measured on the model.
#include "guest/timekeeping_laws.hpp"

#include <gtest/gtest.h>

#include "scenario_util.hpp"

using namespace vcpusim;
namespace law = guest::tk_law;

namespace {

// seed 001 without its host load and readers, 41 ms: ten timekeeping updates (ticks at 4, 8, ...,
// 40 ms), none cut off by the end of the run.
tools::RunResult unloaded(const std::string& ntp) {
  return test::run_file("vdso-time-backwards.json",
                        {"host.load=[]", "guest.workloads=[]", "duration=41ms",
                         "guest.timekeeping.ntp=" + ntp});
}

}  // namespace

// 10^9 * 2^24 / 2.5 GHz = 6710886.4; 500 ppm of it is 3355.4 mult units.
TEST(TimekeepingLaws, InitialMultAndNtpStepAreTheRoundedQuotients) {
  EXPECT_EQ(law::initial_mult(2500000000, 24), 6710886);
  EXPECT_EQ(law::initial_mult(3000000000, 32), 1431655765);  // 1431655765.33
  guest::NtpParams ntp;
  ntp.ppm.value = 500;
  EXPECT_EQ(law::ntp_step(ntp, 6710886), 3355);
  ntp.ppm.value = 0.01;
  EXPECT_EQ(law::ntp_step(ntp, 6710886), 1) << "at least one mult unit";
  ntp.mult_steps.value = 7;
  EXPECT_EQ(law::ntp_step(ntp, 6710886), 7);
}

// The model's mult after ten updates, against the laws' count written out by hand.
TEST(TimekeepingLaws, ModelMultFollowsTheNtpLaws) {
  struct Case {
    const char* ntp;
    std::int64_t mult_final;
  };
  const Case cases[] = {
      {R"({"direction": "down", "ppm": 500})", 6710886 - 10 * 3355},
      {R"({"direction": "up", "mult_steps": 7, "every_ticks": 2})", 6710886 + 5 * 7},
      // Updates 3, 6 and 9 adjust: down, up, down.
      {R"({"direction": "alternating", "ppm": 500, "every_ticks": 3})", 6710886 - 3355},
      {R"({"direction": "alternating", "ppm": 500})", 6710886},
      {R"({"direction": "none"})", 6710886},
  };
  for (const Case& c : cases) {
    const auto r = unloaded(c.ntp);
    EXPECT_EQ(test::metric(r, "timekeeping.updates"), 10) << c.ntp;
    EXPECT_EQ(test::metric(r, "timekeeping.mult_initial"), 6710886) << c.ntp;
    EXPECT_EQ(test::metric(r, "timekeeping.mult_final"), c.mult_final) << c.ntp;
  }
}

// The range the scenario check refuses covers what the model can reach: the bound on adjustments
// is at least the updates of a run, and the range holds every mult on the way.
TEST(TimekeepingLaws, MultRangeBoundsTheModelsMult) {
  EXPECT_GE(law::most_adjustments(41 * sim::kMillisecond, 250, 1), 10);
  EXPECT_GE(law::most_adjustments(41 * sim::kMillisecond, 250, 3), 3);
  for (const auto d : {guest::NtpDirection::kDown, guest::NtpDirection::kUp,
                       guest::NtpDirection::kAlternating}) {
    const law::MultRange range = law::mult_range(d, 1000, 10, 5);
    std::int64_t mult = 1000;
    for (std::int64_t n = 0; n < 5; ++n) {
      mult += law::ntp_adjustment(d, n, 10);
      EXPECT_GE(mult, range.lowest);
      EXPECT_LE(mult, range.highest);
    }
  }
  EXPECT_EQ(law::mult_range(guest::NtpDirection::kDown, 1000, 10, 5).lowest, 950);
  EXPECT_EQ(law::mult_range(guest::NtpDirection::kUp, 1000, 10, 5).highest, 1050);
  EXPECT_EQ(law::lowering_per_period(guest::NtpDirection::kDown), law::kNtpPeriod);
  EXPECT_EQ(law::lowering_per_period(guest::NtpDirection::kAlternating), 1);
  EXPECT_EQ(law::lowering_per_period(guest::NtpDirection::kUp), 0);
}
