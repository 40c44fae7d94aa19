// The shape of Waiman Long's published table (MECHANISMS.md section 7: a kernel build on 32
// pCPUs with 32, 48 and 60 vCPUs), from bench/lock-overcommit.json. Long's host had pause-loop
// exiting; the model with PLE and without it shows which mechanism gives which part of the shape
// (docs/locks.md, "Against Waiman Long's table": at 1.5x+ with PLE, directed yields put the
// preempted holder or next waiter back within a few hundred us, so pv waiters never reach their
// spin threshold and pv and non-pv locks behave alike; without PLE the ticket lock stalls for
// whole host slices and the halting pv locks keep their pCPUs' time useful).
#include <gtest/gtest.h>

#include <map>

#include "scenario_util.hpp"

using namespace vcpusim;

namespace {

struct Point {
  double throughput;  // acquisitions per simulated second
  double max_wait;    // ns
};

Point run(const std::string& kind, int vcpus, bool ple, std::vector<std::string> extra = {}) {
  std::string list = "[";
  for (int v = 0; v < vcpus; ++v) list += (v ? "," : "") + std::to_string(v);
  list += "]";
  std::vector<std::string> sets = {"guest.locks.kind=" + kind, "vm.vcpus=" + std::to_string(vcpus),
                                   "guest.workloads[0].vcpus=" + list};
  if (!ple) sets.push_back("vm.ple_gap=0");
  sets.insert(sets.end(), extra.begin(), extra.end());
  auto s =
      tools::Scenario::load(std::string(VCPUSIM_SOURCE_DIR) + "/bench/lock-overcommit.json", sets);
  const auto r = tools::run_scenario(*s);
  EXPECT_EQ(r.document["violations"].size(), 0u) << kind << " " << vcpus;
  const auto& m = r.document["metrics"];
  return {m.at("locks.acquisitions_per_s").get<double>(), m.at("locks.wait_ns.max").get<double>()};
}

}  // namespace

// With PLE, as on Long's host.
TEST(LongTable, WithPauseLoopExitingTheShapeOfLongsTable) {
  std::map<std::string, std::map<int, Point>> t;
  for (const char* k : {"ticket", "pvticket", "qspinlock", "pvqspinlock", "tas"})
    for (int v : {32, 48, 60}) t[k][v] = run(k, v, true);
  // 1x: queued and ticket locks within 30% of each other.
  for (const char* k : {"qspinlock", "pvqspinlock", "pvticket"})
    EXPECT_NEAR(t[k][32].throughput / t["ticket"][32].throughput, 1.0, 0.3) << k;
  for (int v : {48, 60}) {
    // Overcommit costs the fair locks more than half their throughput (Long: pvticket 5m02s ->
    // 13m28s), the unfair lock little (Long: 3m03s -> 3m30s) and it is the fastest.
    EXPECT_LT(t["ticket"][v].throughput, 0.5 * t["ticket"][32].throughput) << v;
    EXPECT_GT(t["tas"][v].throughput, 0.8 * t["tas"][32].throughput) << v;
    for (const char* k : {"ticket", "pvticket", "qspinlock", "pvqspinlock"})
      EXPECT_GT(t["tas"][v].throughput, 1.5 * t[k][v].throughput) << k << " " << v;
    // pvqspinlock ahead of the ticket locks (Long: 1.19x and 1.28x pvticket), pvticket between.
    // Long's table has no plain ticket lock, so its margin is not his number: with the PLE
    // handling costs (costs.ple_handler, costs.host_schedule) the model gives 1.11x ticket at 48
    // and 1.09x at 60, Long's ranking with a smaller lead than his (docs/locks.md, "PLE costs").
    EXPECT_GT(t["pvqspinlock"][v].throughput, 1.05 * t["ticket"][v].throughput) << v;
    EXPECT_GE(t["pvticket"][v].throughput, 0.95 * t["ticket"][v].throughput) << v;
    EXPECT_LT(t["pvticket"][v].throughput, t["pvqspinlock"][v].throughput) << v;
    // The ticket lock's worst wait grows by about an order of magnitude.
    EXPECT_GT(t["ticket"][v].max_wait, 5 * t["ticket"][32].max_wait) << v;
  }
}

// Without PLE: the ticket lock collapses (a preempted holder or next waiter stalls it for a host
// slice), the halting pv locks stay ahead, pvticket between; and PLE improves the ticket lock at
// 1.5x overcommit (not at 1.9x, below). Every hand-over to a halted pv waiter waits for its host
// wake-up (kvm_vcpu_kick through the scheduler, costs.halt_wakeup 5 us): that caps pvqspinlock
// at about 1.4x ticket; without that cost it keeps more than twice the ticket lock's throughput.
TEST(LongTable, WithoutPauseLoopExitingTicketCollapsesAndPvLocksStayAhead) {
  const Point ticket1x = run("ticket", 32, false);
  for (int v : {48, 60}) {
    const Point ticket = run("ticket", v, false);
    const Point pvticket = run("pvticket", v, false);
    const Point pvq = run("pvqspinlock", v, false);
    EXPECT_GT(ticket.max_wait, 10 * ticket1x.max_wait) << v;
    EXPECT_GT(pvq.throughput, 1.25 * ticket.throughput) << v;
    if (v == 48) {
      EXPECT_GT(run("pvqspinlock", v, false, {"costs.halt_wakeup=0ns"}).throughput,
                2 * ticket.throughput);
    }
    EXPECT_GT(pvticket.throughput, ticket.throughput) << v;
    EXPECT_LT(pvticket.throughput, pvq.throughput) << v;
  }
  // PLE improves the ticket lock at 1.5x. Not at 60 vCPUs (1.9x): 28 of 32 pCPUs alternate two
  // spinning vCPUs, every switch resets the window (vmx_sched_in, ple_window_shrink 0) and each
  // exit pays its handling and a host schedule(); that overhead outweighs the four full-slice
  // stalls a 50 ms run without PLE sees (docs/locks.md, "PLE costs"). Long measured with PLE only.
  EXPECT_GT(run("ticket", 48, true).throughput, run("ticket", 48, false).throughput);
}

// docs/locks.md "A kernel build is mostly user mode". Premise: the bench as it is (think 5 us,
// all kernel) against the kernel-build stand-in (think 55 us, 90% of it in user mode: the same
// 6 us of kernel work per acquisition and 49.5 us of user work), 20 ms each, PLE on. Expected:
// at 1.5x the stand-in's ticket lock slows down less than half as much as all-lock torture's
// (about 1.4x against 4x; Long measured 2.7x for pvticket), and, against the same timing all in
// kernel mode, its waiters' pause-loop exits skip candidates preempted in user mode and exit
// less than half as often (the window grows when no candidate is taken and no schedule-in
// resets it, vmx.c grow_ple_window / shrink_ple_window).
TEST(LongTable, KernelBuildMixSlowsFairLocksFarLessThanAllLockTorture) {
  const std::vector<std::string> shortrun = {"duration=\"20ms\""};
  const std::vector<std::string> build = {"duration=\"20ms\"", "guest.workloads[0].think=\"55us\"",
                                          "guest.workloads[0].user_percent=90"};
  const double all_lock = run("ticket", 32, true, shortrun).throughput /
                          run("ticket", 48, true, shortrun).throughput;
  const double mix =
      run("ticket", 32, true, build).throughput / run("ticket", 48, true, build).throughput;
  EXPECT_GT(all_lock, 3.0);
  EXPECT_LT(mix, 0.5 * all_lock);
  auto kernel_only = build;
  kernel_only.back() = "guest.workloads[0].user_percent=0";
  auto counters = [](const std::vector<std::string>& sets) {
    std::string list = "[";
    for (int v = 0; v < 60; ++v) list += (v ? "," : "") + std::to_string(v);
    std::vector<std::string> all = {"guest.locks.kind=pvqspinlock", "vm.vcpus=60",
                                    "guest.workloads[0].vcpus=" + list + "]"};
    all.insert(all.end(), sets.begin(), sets.end());
    auto s = tools::Scenario::load(std::string(VCPUSIM_SOURCE_DIR) + "/bench/lock-overcommit.json",
                                   all);
    const auto r = tools::run_scenario(*s);
    const auto& m = r.document["metrics"];
    return std::make_pair(m.at("kvm.ple_exits").get<std::int64_t>(),
                          m.at("kvm.yield_skipped_user").get<std::int64_t>());
  };
  const auto user = counters(build), kernel = counters(kernel_only);
  EXPECT_GT(user.second, 0);
  EXPECT_EQ(kernel.second, 0);
  EXPECT_LT(2 * user.first, kernel.first);
}
