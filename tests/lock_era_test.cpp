// pvqspinlock by kernel era (issue 25, item 2; guest.locks.era, guest/locks/pv_qspinlock.cpp).
// Without PLE, the 2015 era (seed 003's model) halts every follower once one node halts and each
// hand-off pays a host wake-up, so throughput sits on a plateau whatever the overcommit; the 2016
// era's lock stealing lets newcomers take the lock while the queue head is halted.
#include <gtest/gtest.h>

#include "cli_util.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;

namespace {

struct Point {
  double throughput;  // acquisitions per simulated second
  std::int64_t steals = -1;
  std::int64_t steals_while_head_halted = -1;
};

// bench/lock-overcommit.json (32 pCPUs, 4 locks) for 20 ms with PLE off.
Point run(const std::string& era, int vcpus) {
  std::string list = "[";
  for (int v = 0; v < vcpus; ++v) list += (v ? "," : "") + std::to_string(v);
  list += "]";
  auto s = tools::Scenario::load(
      std::string(VCPUSIM_SOURCE_DIR) + "/bench/lock-overcommit.json",
      {"guest.locks.era=\"" + era + "\"", "vm.vcpus=" + std::to_string(vcpus),
       "guest.workloads[0].vcpus=" + list, "vm.ple_gap=0", "duration=20ms"});
  const auto r = tools::run_scenario(*s);
  EXPECT_EQ(r.document["violations"].size(), 0u) << era << " " << vcpus;
  const auto& m = r.document["metrics"];
  Point p{m.at("locks.acquisitions_per_s").get<double>()};
  if (m.contains("locks.steals")) {
    p.steals = m.at("locks.steals").get<std::int64_t>();
    p.steals_while_head_halted = m.at("locks.steals_while_head_halted").get<std::int64_t>();
  }
  return p;
}

}  // namespace

TEST(LockEra, Era2016StealsWhileTheQueueHeadIsHaltedAndLeavesThe2015Plateau) {
  const Point base = run("2015", 32);
  const Point old48 = run("2015", 48), old64 = run("2015", 64);
  // 2015: the plateau, and no steal counted (the era has none past a queue).
  EXPECT_EQ(old48.steals, -1);
  const double r48 = old48.throughput / base.throughput, r64 = old64.throughput / base.throughput;
  EXPECT_NEAR(r48, r64, 0.05) << "2015: flat across overcommit";
  for (const char* era : {"2016", "current"}) {
    const Point p48 = run(era, 48), p64 = run(era, 64);
    // The mechanism: newcomers take the lock past the queue, in 2016 while the queue head is
    // halted (its host wake-up still to come), which 2015 cannot do.
    EXPECT_GT(p48.steals, 0) << era;
    EXPECT_GT(p64.steals, 0) << era;
    EXPECT_LE(p48.steals_while_head_halted, p48.steals) << era;
    if (std::string(era) == "2016") {
      EXPECT_GT(p48.steals_while_head_halted, 0) << era;
      EXPECT_GT(p64.steals_while_head_halted, 0) << era;
    }
    // Off the plateau: each steal is a hand-off that pays no wake-up.
    EXPECT_GT(p48.throughput, 1.1 * old48.throughput) << era;
    EXPECT_GT(p64.throughput, 1.1 * old64.throughput) << era;
  }
}

TEST(LockEra, PvticketHasOnlyThe2015Era) {
  const std::string file = test::scenario_path("lock-holder-preemption.json");
  for (const char* era : {"2016", "current"}) {
    const auto r = test::run_cli({"validate", file, "--set", "guest.locks.kind=pvticket", "--set",
                                  std::string("guest.locks.era=\"") + era + "\""});
    EXPECT_EQ(r.status, 2) << era;
    EXPECT_NE(r.err.find("$.guest.locks.era"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("left mainline"), std::string::npos) << r.err;
  }
  EXPECT_NO_THROW(tools::Scenario::load(file, {"guest.locks.kind=pvticket"}));
}
