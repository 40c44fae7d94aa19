// Host scheduler behaviour, checked against what each policy's own rules predict.
#include <gtest/gtest.h>

#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::frac;
using vcpusim::test::Rig;
constexpr sim::Tick ms = sim::kMillisecond;

TEST(FairScheduler, EqualWeightsShareEqually) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kDuty, {0});
  load.busy.value = 10 * ms;  // idle 0: always busy
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(sim::kMicrosecond);
  });
  rig.run(1000 * ms);
  EXPECT_NEAR(frac(m.vcpu(0).run_time(), 1000 * ms), 0.5, 0.01);
  EXPECT_NEAR(frac(m.scheduler().busy_time(0, cpu::HostThread::Kind::kLoad), 1000 * ms), 0.5, 0.01);
  // Two runnable threads, latency 6 ms (x1 scaling on one pCPU): 3 ms slices -> ~333 switches.
  EXPECT_NEAR(static_cast<double>(m.scheduler().context_switches()), 1000.0 / 3.0, 10);
}

TEST(FairScheduler, NiceWeightsSetTheShare) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kDuty, {0});
  load.busy.value = 10 * ms;
  load.nice.value = -5;  // weight 3121 against the vCPU's 1024
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(sim::kMicrosecond);
  });
  rig.run(2000 * ms);
  EXPECT_NEAR(frac(m.vcpu(0).run_time(), 2000 * ms), 1024.0 / (1024 + 3121), 0.02);
}

TEST(FairScheduler, WakingSleeperPreemptsAtOnce) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kScript, {0});
  load.windows = {{50 * ms, 60 * ms}};
  load.nice.value = -20;
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(sim::kMicrosecond);
  });
  rig.run(100 * ms);
  // The load slept 50 ms: placed half a latency (3 ms) behind the vCPU, it preempts on wake-up.
  // At nice -20 its vruntime advances 87x slower than the vCPU's, so it stays leftmost and keeps
  // the pCPU for its whole 10 ms window.
  EXPECT_EQ(m.vcpu(0).steal_time(), 10 * ms);
}

TEST(RrScheduler, QuantumAlternatesThreads) {
  Rig rig(1, 1, cpu::SchedulerKind::kRr);
  rig.host.scheduler.rr_quantum.value = 2 * ms;
  auto& load = rig.add_load(cpu::LoadKind::kDuty, {0});
  load.busy.value = 10 * ms;
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(sim::kMicrosecond);
  });
  rig.run(100 * ms);
  EXPECT_NEAR(frac(m.vcpu(0).run_time(), 100 * ms), 0.5, 0.03);
  EXPECT_NEAR(static_cast<double>(m.scheduler().context_switches()), 50, 2);
}

TEST(HostScheduler, AffinityIsRespected) {
  Rig rig(2, 1);
  rig.vm.pinning = {{1}};
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(sim::kMicrosecond);
  });
  rig.run(10 * ms);
  EXPECT_EQ(m.scheduler().busy_time(0, cpu::HostThread::Kind::kVcpu), 0);
  EXPECT_EQ(m.scheduler().busy_time(1, cpu::HostThread::Kind::kVcpu), 10 * ms);
}

TEST(LoadTask, DutyWindowsAreWallClock) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kDuty, {0});
  load.busy.value = 3 * ms;
  load.idle.value = 7 * ms;
  load.phase.value = 1 * ms;
  auto& m = rig.build();
  rig.run(100 * ms);  // vCPU idle: the load runs exactly its windows
  EXPECT_EQ(m.scheduler().busy_time(0, cpu::HostThread::Kind::kLoad), 30 * ms);
}

TEST(LoadTask, PoissonLoadMatchesItsMeans) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kPoisson, {0});
  load.busy.value = 2 * ms;
  load.idle.value = 6 * ms;
  auto& m = rig.build();
  rig.run(20000 * ms);
  EXPECT_NEAR(frac(m.scheduler().busy_time(0, cpu::HostThread::Kind::kLoad), 20000 * ms), 0.25,
              0.02);
  EXPECT_GT(rig.decisions.count(), 1000u);
}

TEST(FairScheduler, EqualWeightSleeperGetsHalfALatencyOfCredit) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kScript, {0});
  load.windows = {{50 * ms, 60 * ms}};
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(sim::kMicrosecond);
  });
  rig.run(100 * ms);
  // Placed 3 ms behind, the load runs 3 ms (its slice) and then the two alternate fairly over the
  // remaining 7 ms: the vCPU loses 3 + 7/2 ms.
  EXPECT_NEAR(static_cast<double>(m.vcpu(0).steal_time()),
              static_cast<double>(6500 * sim::kMicrosecond),
              static_cast<double>(600 * sim::kMicrosecond));
}
