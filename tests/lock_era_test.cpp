// pvqspinlock by kernel era (issue 25, item 2; guest.locks.era, guest/locks/pv_qspinlock.cpp).
// Without PLE, the 2015 era (seed 003's model) halts every follower once one node halts and each
// hand-off pays a host wake-up, so throughput sits on a plateau whatever the overcommit; the 2016
// era's lock stealing lets newcomers take the lock while the queue head is halted, and the trace
// marks each such steal.
#include <gtest/gtest.h>

#include "cli_util.hpp"
#include "cpu/trace_lanes.hpp"
#include "scenario_util.hpp"
#include "tools/run/trace_io.hpp"

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
    // Almost every steal lands in the queue head's halt: while it waits for its kick, or was
    // kicked and waits for the host to run it (costs.halt_wakeup), the lock is free, locked and
    // pending clear, and a newcomer's one cmpxchg takes it. That window is the plateau's cost.
    for (const Point* p : {&p48, &p64}) {
      EXPECT_LE(p->steals_while_head_halted, p->steals) << era;
      EXPECT_GE(p->steals_while_head_halted * 10, p->steals * 9) << era;
    }
    // Off the plateau: each steal is a hand-off that pays no wake-up.
    EXPECT_GT(p48.throughput, 1.1 * old48.throughput) << era;
    EXPECT_GT(p64.throughput, 1.1 * old64.throughput) << era;
  }
}

// The mechanism in a trace: 2016 at 1.5x without PLE. Each steal made while the queue head is
// halted is an instant "stole <lock> while the queue head is halted" on the stealer's lane, as
// many as the metric counts; 2015 at the same point draws none.
TEST(LockEra, TraceMarksEachStealWhileTheQueueHeadIsHalted) {
  for (const char* era : {"2015", "2016"}) {
    std::string list = "[";
    for (int v = 0; v < 48; ++v) list += (v ? "," : "") + std::to_string(v);
    list += "]";
    auto s = tools::Scenario::load(
        std::string(VCPUSIM_SOURCE_DIR) + "/bench/lock-overcommit.json",
        {std::string("guest.locks.era=\"") + era + "\"", "vm.vcpus=48",
         "guest.workloads[0].vcpus=" + list, "vm.ple_gap=0", "duration=20ms"});
    tools::RunOptions o;
    o.keep_events = true;
    const auto r = tools::run_scenario(*s, o);
    const sim::Trace t = tools::make_trace(*s, r, sim::TraceFilter{});
    std::int64_t marks = 0;
    for (const auto& e : t.events())
      if (e.name.find("while the queue head is halted") != std::string::npos) ++marks;
    const auto& m = r.document["metrics"];
    if (std::string(era) == "2015") {
      EXPECT_EQ(marks, 0);
      EXPECT_FALSE(m.contains("locks.steals_while_head_halted"));
    } else {
      EXPECT_GT(marks, 100) << "premise: the heads halt and newcomers steal";
      EXPECT_EQ(marks, m.at("locks.steals_while_head_halted").get<std::int64_t>());
    }
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
