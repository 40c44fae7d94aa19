// The guest's privilege level as vCPU state (cpu/vm/vcpu.hpp set_mode): lock_torture's
// `user_percent` puts part of each think time in user mode; the vCPU's run time splits into
// vcpuN.user_ns and vcpuN.kernel_ns, settled by the host scheduler; interrupts run in kernel
// mode; and KVM's in-kernel filter (kvm_vcpu_on_spin) skips candidates preempted in user mode.
#include <gtest/gtest.h>

#include <map>

#include "decoupling_util.hpp"
#include "rig.hpp"
#include "scenario_util.hpp"
#include "sim/error.hpp"

using namespace vcpusim;
using sim::kMicrosecond;

namespace {

// Seed 003's lock-holder preemption (6 vCPUs on 4 pCPUs and a load task) with think times long
// enough for a user-mode share to matter, 80% of them in user mode unless `user` says otherwise.
std::vector<std::string> user_mode_sets(int user, std::vector<std::string> more = {}) {
  std::vector<std::string> sets = {"guest.workloads[0].think=\"20us\"",
                                   "guest.workloads[0].user_percent=" + std::to_string(user),
                                   "duration=\"20ms\""};
  sets.insert(sets.end(), more.begin(), more.end());
  return sets;
}

std::int64_t vcpus(const tools::RunResult& r) {
  return r.document["scenario"]["vm"]["vcpus"].get<std::int64_t>();
}

}  // namespace

// Premise: a fixed think of 20 us, 80% in user mode, and a fixed count of acquisitions that every
// task finishes within the run (then halts in kernel mode). Expected: each vCPU's user time is
// exactly count x 16 us (the model splits each think as floor(think x percent / 100)), its
// kernel time is the rest of its run time, and the two sum to run_ns.
TEST(GuestMode, UserTimeIsExactlyTheConfiguredShareOfEachThink) {
  const int count = 150;
  const auto r = test::run_file(
      "lock-holder-preemption.json",
      user_mode_sets(80, {"guest.workloads[0].hold_dist=\"fixed\"",
                          "guest.workloads[0].count=" + std::to_string(count),
                          "duration=\"40ms\""}));
  const std::int64_t n = vcpus(r);
  ASSERT_EQ(test::metric(r, "locks.acquisitions"), n * count) << "premise: every task finished";
  std::int64_t steal = 0;
  for (int v = 0; v < n; ++v) {
    const std::string p = "vcpu" + std::to_string(v);
    EXPECT_EQ(test::metric(r, p + ".user_ns"), count * 16000) << p;
    EXPECT_EQ(test::metric(r, p + ".user_ns") + test::metric(r, p + ".kernel_ns"),
              test::metric(r, p + ".run_ns"))
        << p;
    steal += test::metric(r, p + ".steal_ns");
  }
  EXPECT_GT(steal, 0) << "premise: the host preempted vCPUs during the run";
  // The default keeps everything in kernel mode.
  const auto k = test::run_file("lock-holder-preemption.json", {"duration=\"5ms\""});
  for (int v = 0; v < vcpus(k); ++v) {
    const std::string p = "vcpu" + std::to_string(v);
    EXPECT_EQ(test::metric(k, p + ".user_ns"), 0) << p;
    EXPECT_EQ(test::metric(k, p + ".kernel_ns"), test::metric(k, p + ".run_ns")) << p;
  }
}

// Premise: exponential think times with 80% in user mode under overcommit, the event stream kept.
// Expected: the user and run times rebuilt from the stream alone (the pCPUs' dispatch /
// deschedule / sleep records, the vCPUs' mode.user notes) equal the metrics to the ns, so user
// time accrues only while the vCPU runs, and some vCPU was preempted in user mode (the case that
// would leak waiting time into a mode if accounting were not settled at the deschedule).
TEST(GuestMode, AccountingMatchesTheRunningIntervalsOfTheEventStreamExactly) {
  auto s = tools::Scenario::load(test::scenario_path("lock-holder-preemption.json"),
                                 user_mode_sets(80));
  tools::RunOptions o;
  o.keep_events = true;
  const auto r = tools::run_scenario(*s, o);
  const int n = static_cast<int>(vcpus(r));
  struct Acc {
    bool running = false, user = false;
    sim::Tick since = 0, run = 0, user_time = 0;
    int preempted_in_user = 0;
    void close(sim::Tick t) {
      if (!running) return;
      run += t - since;
      if (user) user_time += t - since;
      since = t;
    }
  };
  std::vector<Acc> acc(static_cast<std::size_t>(n));
  for (const auto& e : r.events) {
    const auto& c = r.components.at(e.component);
    if (c.group == "pcpu" && e.a >= 0 && e.a < n) {
      Acc& a = acc[static_cast<std::size_t>(e.a)];
      if (e.kind == "dispatch") {
        a.running = true;
        a.since = e.time;
      } else if (e.kind == "deschedule" || e.kind == "sleep") {
        a.close(e.time);
        a.running = false;
        if (e.kind == "deschedule" && a.user) ++a.preempted_in_user;
      }
    } else if (c.group == "vcpu" && e.kind == "mode.user") {
      Acc& a = acc[static_cast<std::size_t>(c.index)];
      a.close(e.time);
      a.user = e.a == 1;
    }
  }
  const sim::Tick end = s->duration;
  int preempted_in_user = 0;
  for (int v = 0; v < n; ++v) {
    Acc& a = acc[static_cast<std::size_t>(v)];
    a.close(end);
    const std::string p = "vcpu" + std::to_string(v);
    EXPECT_EQ(test::metric(r, p + ".run_ns"), a.run / sim::kNanosecond) << p;
    EXPECT_EQ(test::metric(r, p + ".user_ns"), a.user_time / sim::kNanosecond) << p;
    EXPECT_GT(a.user_time, 0) << p;
    preempted_in_user += a.preempted_in_user;
  }
  EXPECT_GT(preempted_in_user, 0) << "premise: the host preempted a vCPU in user mode";
}

// Premise: a vCPU computing 100 us in user mode with a timer interrupt due in the middle (taken
// at the operation's end, its boundary). Expected: the handler runs in kernel mode, the task is
// back in user mode after it, and the user time is exactly the 100 us (entry, handler and exit
// count as kernel time).
TEST(GuestMode, InterruptInUserModeRunsItsHandlerInKernelModeAndReturnsToUserMode) {
  test::Rig rig(1, 1);
  cpu::Machine& m = rig.build();
  bool handler_user = true, after_user = false;
  m.vcpu(0).set_handler(cpu::Vector::kTimer,
                        [&](cpu::GuestCpu& c) { handler_user = c.user_mode(); });
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.arm_timer(50 * kMicrosecond);
    c.set_user_mode(true);
    c.compute(100 * kMicrosecond);
    after_user = c.user_mode();
    c.set_user_mode(false);
    for (;;) c.halt();
  });
  rig.run(500 * kMicrosecond);
  EXPECT_FALSE(handler_user);
  EXPECT_TRUE(after_user);
  EXPECT_EQ(m.vcpu(0).interrupts_taken(), 1u);
  EXPECT_EQ(m.vcpu(0).user_time(), 100 * kMicrosecond);
  EXPECT_EQ(m.vcpu(0).user_time() + m.vcpu(0).kernel_time(), m.vcpu(0).run_time());
}

// The guest switches tasks in schedule(), in kernel mode: a switch asked for in user mode is
// guest code's error, reported rather than carrying one task's mode into another.
TEST(GuestMode, TaskSwitchInUserModeIsAnError) {
  test::Rig rig(1, 1);
  cpu::Machine& m = rig.build();
  const int other = m.vcpu(0).add_context("other", [](cpu::GuestCpu& c) {
    for (;;) c.halt();
  });
  rig.body(0, [other](cpu::GuestCpu& c) {
    c.set_user_mode(true);
    c.switch_to(other);
  });
  EXPECT_THROW(rig.run(100 * kMicrosecond), sim::SimError);
}

// kvm_main.c kvm_vcpu_on_spin (Linux 6.5): "if (READ_ONCE(vcpu->preempted) && yield_to_kernel_mode
// && !kvm_arch_vcpu_in_kernel(vcpu)) continue;" with preempted_in_kernel recorded by
// kvm_arch_vcpu_put. Premise: lock waiters spin in kernel mode and exit on PLE (Intel: in-kernel
// candidates always) while other vCPUs are preempted. Expected: with 80% of the think time in
// user mode some candidates are skipped (kvm.yield_skipped_user); with none, none is.
TEST(DirectedYield, KernelSpinnerSkipsVcpusPreemptedInUserModeInALockTortureRun) {
  const auto user = test::run_file("lock-holder-preemption.json", user_mode_sets(80));
  const auto kernel = test::run_file("lock-holder-preemption.json", user_mode_sets(0));
  EXPECT_GT(test::metric(user, "kvm.ple_exits"), 0) << "premise: spinners exit on PLE";
  EXPECT_GT(test::metric(kernel, "kvm.ple_exits"), 0) << "premise: spinners exit on PLE";
  EXPECT_GT(test::metric(user, "kvm.yield_skipped_user"), 0);
  EXPECT_EQ(test::metric(kernel, "kvm.yield_skipped_user"), 0);
}

// Premise: the user-mode lock run above, with and without temporal decoupling (a mode switch
// settles the host's accounting from inside a guest operation run inline). Expected:
// byte-identical results, and decoupling engaged.
TEST(GuestMode, IdenticalWithoutDecoupling) {
  const auto s = tools::Scenario::load(test::scenario_path("lock-holder-preemption.json"),
                                       user_mode_sets(80));
  const test::BothWays r = test::run_both_ways(*s);
  EXPECT_EQ(r.decoupled.document, r.event_path.document);
  EXPECT_EQ(r.decoupled.document.find("simulation error"), std::string::npos);
  EXPECT_NE(r.decoupled.document.find("\"user_percent\":80"), std::string::npos);
  EXPECT_LT(r.decoupled.kernel_events, r.event_path.kernel_events);
}

// The key is typed and range-checked like the workload's others, and only lock_torture takes it.
TEST(GuestMode, UserPercentIsRangeCheckedAndOnlyForLockTorture) {
  const std::string path = test::scenario_path("lock-holder-preemption.json");
  try {
    tools::Scenario::load(path, {"guest.workloads[0].user_percent=101"});
    FAIL() << "101 accepted";
  } catch (const sim::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("guest.workloads[0].user_percent"), std::string::npos) << what;
    EXPECT_NE(what.find("101"), std::string::npos) << what;
  }
  EXPECT_THROW(tools::Scenario::load(test::scenario_path("rcu-grace-period.json"),
                                     {"guest.workloads[0].user_percent=50"}),
               sim::ConfigError);
}
