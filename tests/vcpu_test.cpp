// The vCPU execution model: cost only while running, preemption mid-cost, event-driven spinning,
// interrupts at operation boundaries, HLT and wake-up. Shaped as setup / per-CPU bodies /
// invariant / expected result.
#include <gtest/gtest.h>

#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

TEST(Vcpu, CostIsConsumedOnlyWhileRunning) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kScript, {0});
  const sim::Tick start = rig.costs.vm_entry.value + 5 * ms;
  load.windows = {{start + 5 * us, 6 * ms}};
  load.nice.value = -20;
  rig.build();
  sim::Tick done = -1;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.compute(5 * ms);   // runs alone: the vCPU's vruntime is now well ahead of the sleeping load
    c.compute(10 * us);  // preempted after 5 us; the other 5 us are paid after the window
    done = c.now();
    for (;;) c.halt();
  });
  rig.run(8 * ms);
  // ... plus the VM entry that follows every host preemption.
  EXPECT_EQ(done, 6 * ms + 5 * us + rig.costs.vm_entry.value);
}

TEST(Vcpu, SpinningIsEventDrivenAndAccounted) {
  Rig rig(2, 2);
  auto& m = rig.build();
  cpu::Word& flag = m.memory().word("flag");
  sim::Tick released = -1;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.spin_until([&] { return c.load(flag) == 1; });
    released = c.now();
    for (;;) c.halt();
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    c.compute(10 * ms);
    c.store(flag, 1);
    for (;;) c.halt();
  });
  rig.run(20 * ms);
  // Released one recheck after the store lands (the loop notices, then re-loads the flag, which
  // moves the line); 10 ms of spinning cost a handful of events.
  const sim::Tick stored = rig.costs.vm_entry.value + 10 * ms;
  EXPECT_GT(released, stored);
  EXPECT_LE(released, stored + rig.costs.store.value + rig.costs.spin_recheck.value +
                          rig.costs.load.value + 2 * rig.costs.cacheline_same_socket.value);
  EXPECT_NEAR(static_cast<double>(m.vcpu(0).spin_time()), static_cast<double>(10 * ms),
              static_cast<double>(us));
  EXPECT_LT(m.kernel().events_processed(), 50u);
}

TEST(Vcpu, InterruptsWaitForIrqsEnabledAndTakeTheBoundary) {
  Rig rig(1, 1);
  auto& m = rig.build();
  sim::Tick handled = -1;
  m.vcpu(0).set_handler(cpu::Vector::kTimer, [&](cpu::GuestCpu& c) { handled = c.now(); });
  rig.body(0, [&](cpu::GuestCpu& c) {
    const bool flags = c.local_irq_save();
    c.compute(100 * us);  // the timer fires at 50 us, inside this irqs-off section
    c.local_irq_restore(flags);
    for (;;) c.compute(us);
  });
  m.kernel().at(rig.costs.vm_entry.value + 50 * us, sim::Phase::kInterrupt, 0,
                [&] { m.vcpu(0).raise(cpu::Vector::kTimer); });
  rig.run(1 * ms);
  EXPECT_EQ(handled, rig.costs.vm_entry.value + 100 * us + rig.costs.irq_entry.value);
}

TEST(Vcpu, NmiIsTakenWithIrqsDisabled) {
  Rig rig(1, 1);
  auto& m = rig.build();
  int nmis = 0;
  m.vcpu(0).set_handler(cpu::Vector::kNmi, [&](cpu::GuestCpu&) { ++nmis; });
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.local_irq_save();
    for (;;) c.compute(us);
  });
  m.kernel().at(10 * us, sim::Phase::kInterrupt, 0, [&] { m.vcpu(0).raise(cpu::Vector::kNmi); });
  rig.run(1 * ms);
  EXPECT_EQ(nmis, 1);
}

TEST(Vcpu, HaltedVcpuWakesOnInterruptAfterVmEntry) {
  Rig rig(1, 1);
  auto& m = rig.build();
  sim::Tick handled = -1;
  m.vcpu(0).set_handler(cpu::Vector::kTimer, [&](cpu::GuestCpu& c) { handled = c.now(); });
  m.kernel().at(1 * ms, sim::Phase::kInterrupt, 0, [&] { m.vcpu(0).raise(cpu::Vector::kTimer); });
  rig.run(2 * ms);
  EXPECT_EQ(handled, 1 * ms + rig.costs.vm_entry.value + rig.costs.irq_entry.value);
  EXPECT_GT(m.vcpu(0).halted_time(), 1 * ms - 2 * rig.costs.vm_entry.value);
}

TEST(Vcpu, StealTimeAndPreemptedFlagFollowTheHost) {
  Rig rig(1, 2);
  rig.vm.pinning = {{0}, {0}};
  auto& load = rig.add_load(cpu::LoadKind::kScript, {0});
  load.windows = {{1 * ms, 3 * ms}};
  load.nice.value = -20;
  auto& m = rig.build();
  bool seen_preempted = false;
  rig.body(0, [&](cpu::GuestCpu& c) {
    for (;;) c.compute(10 * us);
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    for (;;) {
      seen_preempted |= c.vcpu_is_preempted(0);
      c.compute(10 * us);
    }
  });
  rig.run(10 * ms);
  // Both vCPUs are always runnable: whatever of the 2 x 10 ms they did not run is steal, and
  // they ran all the time the load did not.
  const sim::Tick ran = m.vcpu(0).run_time() + m.vcpu(1).run_time();
  EXPECT_EQ(ran, 8 * ms);
  EXPECT_EQ(m.vcpu(0).steal_time() + m.vcpu(1).steal_time(), 2 * 10 * ms - ran);
  EXPECT_TRUE(seen_preempted);
}

TEST(Vcpu, CachelineTransfersAreCharged) {
  Rig rig(2, 2);
  auto& m = rig.build();
  cpu::Word& w = m.memory().word("shared");
  sim::Tick first = 0, second = 0;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.store(w, 1);
    for (;;) c.halt();
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    c.compute(10 * us);
    sim::Tick t = c.now();
    c.load(w);  // the line is modified in pCPU0's cache
    first = c.now() - t;
    t = c.now();
    c.load(w);  // now a local hit
    second = c.now() - t;
    for (;;) c.halt();
  });
  rig.run(1 * ms);
  EXPECT_EQ(first, rig.costs.load.value + rig.costs.cacheline_same_socket.value);
  EXPECT_EQ(second, rig.costs.load.value);
  EXPECT_EQ(m.memory().transfers(), 1u);
}
