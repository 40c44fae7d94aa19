// CPU bandwidth control (cpu/host/cpu_bandwidth.hpp, vm.cpu_max): the VM's vCPU threads never run
// more than the quota per period between them, are throttled the moment they reach it and run
// again at the refill; the result is the same without temporal decoupling.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "decoupling_util.hpp"
#include "rig.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;
using sim::kMicrosecond;
using sim::kMillisecond;
using sim::Tick;

namespace {

// `vcpus` busy vCPUs on `pcpus` pCPUs (vCPU i on pCPU i % pcpus) with cpu.max "quota period".
struct Limited {
  test::Rig rig;
  std::vector<Tick> per_period;  // the VM's run time in each period, summed over its vCPUs
  Limited(int pcpus, int vcpus, Tick quota, Tick period) : rig(pcpus, vcpus) {
    rig.vm.cpu_max.quota.value = quota;
    rig.vm.cpu_max.period.value = period;
    rig.build();
    for (int v = 0; v < vcpus; ++v)
      rig.body(v, [](cpu::GuestCpu& c) {
        for (;;) c.compute(7 * kMicrosecond);
      });
  }
  Tick vm_run_time() {
    Tick sum = 0;
    for (int v = 0; v < rig.machine->vcpu_count(); ++v) {
      rig.machine->scheduler().work_left(rig.machine->vcpu(v));  // settles a running vCPU
      sum += rig.machine->vcpu(v).run_time();
    }
    return sum;
  }
  // Samples the VM's run time at every period boundary (after the refill at that instant).
  void run(Tick end) {
    const Tick period = rig.vm.cpu_max.period.value;
    auto last = std::make_shared<Tick>(0);
    for (Tick t = period; t <= end; t += period)
      rig.kernel.at(t, sim::Phase::kCheck, 0, [this, last] {
        const Tick now = vm_run_time();
        per_period.push_back(now - *last);
        *last = now;
      });
    rig.run(end);
  }
  std::int64_t metric(const std::string& name) {
    return rig.machine->metrics().values().at(name).get<std::int64_t>();
  }
};

}  // namespace

// Premise: 4 busy vCPUs on 2 pCPUs want 2 CPUs' worth, the quota gives 3 ms per 10 ms period.
// Invariant: the pool is charged for every running vCPU thread. Expected: in every period the
// VM runs at most 3 ms summed over its vCPUs; and since it always wants more, at least the
// quota minus what rounding leaves (under one tick per running thread): every period throttled.
TEST(CpuBandwidth, VmNeverRunsMoreThanItsQuotaPerPeriod) {
  Limited l(2, 4, 3 * kMillisecond, 10 * kMillisecond);
  l.run(100 * kMillisecond);
  ASSERT_EQ(l.per_period.size(), 10u);
  for (std::size_t i = 0; i < l.per_period.size(); ++i) {
    EXPECT_LE(l.per_period[i], 3 * kMillisecond) << "period " << i;
    EXPECT_GE(l.per_period[i], 3 * kMillisecond - 2) << "period " << i;
  }
  EXPECT_EQ(l.metric("vm.cpu_max.periods"), 10);
  EXPECT_EQ(l.metric("vm.cpu_max.throttled_periods"), 10);
}

// Premise: one busy vCPU alone on its pCPU, quota 2 ms per 10 ms. Expected: it is preempted
// (throttled) exactly when it has run 2 ms of the period, so at 2 ms, 12 ms, ... and runs again at
// each refill: over 50 ms it runs 10 ms, is throttled 5 times for 8 ms each, and that wait is its
// steal (the guest sees throttling as steal time, as KVM reports a throttled vCPU's run delay).
TEST(CpuBandwidth, VcpuIsThrottledAtTheQuotaAndRunsAgainAtTheRefill) {
  Limited l(1, 1, 2 * kMillisecond, 10 * kMillisecond);
  l.run(50 * kMillisecond);
  cpu::Vcpu& v = l.rig.machine->vcpu(0);
  EXPECT_EQ(v.run_time(), 10 * kMillisecond);
  EXPECT_EQ(v.steal_time(), 40 * kMillisecond);
  EXPECT_EQ(l.metric("vcpu0.throttles"), 5);
  EXPECT_EQ(l.metric("vcpu0.throttled_ns"), 40'000'000);
  EXPECT_EQ(l.metric("vm.cpu_max.throttled_ns"), 40'000'000);
}

// Premise: a quota above what the VM can use (4 ms per 1 ms period for 2 vCPUs). Expected: never
// throttled; the run is the same as without a limit but for the bandwidth metrics.
TEST(CpuBandwidth, QuotaAboveDemandNeverThrottles) {
  Limited l(2, 2, 4 * kMillisecond, kMillisecond);
  l.run(20 * kMillisecond);
  EXPECT_EQ(l.metric("vm.cpu_max.throttled_periods"), 0);
  EXPECT_EQ(l.rig.machine->vcpu(0).run_time() + l.rig.machine->vcpu(1).run_time(),
            40 * kMillisecond);
}

// can_migrate_task (kernel/sched/fair.c, 6.5) refuses a task of a throttled hierarchy
// (throttled_lb_pair): it is on no run queue. pCPU0 holds vCPU0 and a load task (both pinned
// there) and vCPU2 (allowed on either pCPU), throttled at 1 us (its group's quota gone) and never
// refilled; vCPU1 (pinned to pCPU1) halts for good at 5 ms. Premise: pCPU1 goes newly idle while
// pCPU0 is overloaded (two runnable threads), so new-idle balancing looks there, and vCPU2 is
// the only thread it could take (removing the throttled check from HostScheduler::queued_threads
// makes it take vCPU2). Expected: vCPU2 stays on pCPU0 and pCPU1 stays idle.
TEST(CpuBandwidth, BalancerNeverMovesAThrottledVcpu) {
  test::Rig rig(2, 3);
  rig.host.scheduler.balance.value = true;
  rig.host.scheduler.migration_cost.value = 0;  // nothing cache hot
  rig.vm.pinning = {{0}, {1}, {0, 1}};
  rig.add_load(cpu::LoadKind::kDuty, {0}).busy.value = 10 * kMillisecond;
  cpu::Machine& m = rig.build();
  for (int v : {0, 2})
    rig.body(v, [](cpu::GuestCpu& c) {
      for (;;) c.compute(7 * kMicrosecond);
    });
  rig.body(1, [](cpu::GuestCpu& c) {
    c.compute(5 * kMillisecond);
    for (;;) c.halt();
  });
  rig.kernel.at(kMicrosecond, sim::Phase::kHost, 0, [&m] { m.scheduler().throttle(m.vcpu(2)); });
  rig.run(6 * kMillisecond);
  ASSERT_TRUE(m.vcpu(2).throttled()) << "premise";
  ASSERT_EQ(m.scheduler().nr_running(0), 2) << "premise: pCPU0 overloaded";
  EXPECT_EQ(m.vcpu(2).migrations(), 0u);
  EXPECT_EQ(m.vcpu(2).pcpu(), 0);
  EXPECT_EQ(m.scheduler().current(1), nullptr);
}

// Premise: the lock-holder-preemption scenario with a quota of 2.5 pCPUs out of 4 and host noise,
// run with and without temporal decoupling. Expected: byte-identical results with throttling
// engaged, and decoupling engaged.
TEST(CpuBandwidth, IdenticalWithoutDecoupling) {
  const auto s = tools::Scenario::load(
      test::scenario_path("lock-holder-preemption.json"),
      {"vm.cpu_max={\"quota\":\"2500us\",\"period\":\"1ms\"}", "duration=\"20ms\"",
       "host.noise.enabled=true"});
  const test::BothWays r = test::run_both_ways(*s);
  EXPECT_EQ(r.decoupled.document, r.event_path.document);
  EXPECT_NE(r.decoupled.document.find("\"vm.cpu_max.throttled_periods\":"), std::string::npos);
  EXPECT_EQ(r.decoupled.document.find("\"vm.cpu_max.throttled_periods\":0"), std::string::npos);
  EXPECT_LT(r.decoupled.kernel_events, r.event_path.kernel_events);
}

// Premise: bad cpu.max values. Expected: one message naming the key, the value and what is
// allowed, before any run.
TEST(CpuBandwidth, QuotaBelowOneMillisecondIsRejected) {
  try {
    test::run_file("lock-holder-preemption.json", {"vm.cpu_max.quota=\"500us\""});
    FAIL() << "accepted a 500us quota";
  } catch (const sim::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("$.vm.cpu_max.quota"), std::string::npos) << what;
    EXPECT_NE(what.find("at least 1ms"), std::string::npos) << what;
  }
}
