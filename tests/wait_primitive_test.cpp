// The one blocking primitive and the hypervisor around it: derived watch sets, pv_wait/pv_kick
// with irqs off, pause-loop exits with a directed yield, the steal-time preempted flag. Each test:
// a setup, per-vCPU bodies, and the outcome the model's own rules predict.
#include <gtest/gtest.h>

#include <type_traits>

#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick ns = sim::kNanosecond;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

namespace {
template <class T, class = void>
struct HasPublicValue : std::false_type {};
template <class T>
struct HasPublicValue<T, std::void_t<decltype(std::declval<T&>().value)>> : std::true_type {};
template <class T, class = void>
struct HasPublicValue_ : std::false_type {};
template <class T>
struct HasPublicValue_<T, std::void_t<decltype(std::declval<T&>().value_)>> : std::true_type {};
std::int64_t metric(cpu::Machine& m, const char* name) {
  return m.metrics().find(name)->get<std::int64_t>();
}
}  // namespace

// Guest code has no way to read a word but GuestCpu: the value is not reachable from outside.
static_assert(!HasPublicValue<cpu::Word>::value && !HasPublicValue_<cpu::Word>::value,
              "a shared word's value must only be reachable through cpu::GuestCpu");

TEST(WaitPrimitive, WatchesEveryWordTheConditionRead) {
  // The condition reads `a`, and `b` only while `a` is 0; a hand-kept list of {a} would never
  // see the store to `b`. The derived set wakes the spinner one re-check after it lands.
  Rig rig(2, 2);
  auto& m = rig.build();
  cpu::Word& a = m.memory().word("a");
  cpu::Word& b = m.memory().word("b");
  sim::Tick released = -1, stored = -1;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.spin_until([&] { return c.load(a) == 1 || c.load(b) == 1; });
    released = c.now();
    for (;;) c.halt();
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    c.compute(1 * ms);
    c.store(b, 1);
    stored = c.now();
    for (;;) c.halt();
  });
  rig.run(3 * ms);
  ASSERT_GT(stored, 0);
  const cpu::CostParams& k = rig.costs;
  // Re-check: notice, reload `a` and `b` (one transfer for the written line of `b`).
  EXPECT_GE(released, stored + k.spin_recheck.value + 2 * k.load.value);
  EXPECT_LE(released,
            stored + k.spin_recheck.value + 2 * k.load.value + 2 * k.cacheline_same_socket.value);
}

TEST(WaitPrimitive, AWriteBetweenTheReadAndTheBlockIsNotLost) {
  // vCPU1 stores while vCPU0's condition is still running (between its load and the block): the
  // version changed, so the wait re-checks at once instead of sleeping through the write.
  Rig rig(2, 2);
  rig.costs.load.value = 10 * us;  // a long load: the store lands while it is in flight
  auto& m = rig.build();
  cpu::Word& flag = m.memory().word("flag");
  sim::Tick released = -1;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.spin_until([&] {
      const bool seen = c.load(flag) == 1;
      if (!seen) c.compute(20 * us);  // time passes after the read, before the wait blocks
      return seen;
    });
    released = c.now();
    for (;;) c.halt();
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    c.compute(15 * us);
    c.store(flag, 1);
    for (;;) c.halt();
  });
  rig.run(1 * ms);
  EXPECT_GT(released, 0);
  EXPECT_LT(released, 100 * us);
}

TEST(WaitPrimitive, PvWaitWithIrqsOffIsWokenByAKickNotByAnIpi) {
  Rig rig(2, 2);
  auto& m = rig.build();
  cpu::Word& lock = m.memory().word("lock", m.memory().new_line(), 1);
  sim::Tick woke = -1;
  cpu::WakeReason why = cpu::WakeReason::kCondition;
  bool ipi_ran = false;
  m.vcpu(0).set_handler(cpu::Vector::kIpi, [&](cpu::GuestCpu&) { ipi_ran = true; });
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.local_irq_save();
    why = c.pv_wait(lock, 1);
    woke = c.now();
    c.local_irq_restore(true);
    for (;;) c.halt();
  });
  sim::Tick kicked = -1;
  rig.body(1, [&](cpu::GuestCpu& c) {
    c.compute(1 * ms);
    c.send_ipi(0);  // irqs are off on vCPU0: this cannot end its halt
    c.compute(1 * ms);
    kicked = c.now();
    c.pv_kick(0);
    for (;;) c.halt();
  });
  rig.run(5 * ms);
  EXPECT_EQ(why, cpu::WakeReason::kKick);
  const cpu::CostParams& k = rig.costs;
  // The kick lands during vCPU1's hypercall handling; vCPU0's thread (asleep: no halt-polling)
  // is woken through the host scheduler and re-enters.
  EXPECT_EQ(woke,
            kicked + k.vm_exit.value + k.hypercall.value + k.halt_wakeup.value + k.vm_entry.value);
  EXPECT_FALSE(ipi_ran && woke < kicked);
  EXPECT_EQ(metric(m, "kvm.kicks"), 1);
  // The wake-up latency starts at the kick: the IPI it could not take started nothing.
  EXPECT_EQ(metric(m, "kvm.halt_wakeup_ns.count"), 1);
  EXPECT_EQ(metric(m, "kvm.halt_wakeup_ns.max"), (k.halt_wakeup.value + k.vm_entry.value) / ns);
}

TEST(WaitPrimitive, PvWaitDoesNotHaltWhenTheWordAlreadyChanged) {
  Rig rig(1, 1);
  auto& m = rig.build();
  cpu::Word& lock = m.memory().word("lock");
  cpu::WakeReason why = cpu::WakeReason::kKick;
  rig.body(0, [&](cpu::GuestCpu& c) {
    why = c.pv_wait(lock, 1);  // holds 0, not 1: no halt
    for (;;) c.halt();
  });
  rig.run(1 * ms);
  EXPECT_EQ(why, cpu::WakeReason::kCondition);
}

namespace {
// vCPU0 takes a lock word and works 3 ms; vCPU1, on the same pCPU (rr, 1 ms quantum), spins on
// the lock from the moment it first runs.
struct LockHolderRun {
  sim::Tick waiter_ran = 0;  // CPU time vCPU1 burnt (it does nothing but wait)
  std::int64_t ple_exits = 0, yields = 0;
  sim::Tick acquired = -1;
};
LockHolderRun lock_holder_preempted(std::int64_t ple_gap) {
  Rig rig(1, 2, cpu::SchedulerKind::kRr);
  rig.vm.pinning = {{0}, {0}};
  rig.vm.ple_gap.value = ple_gap;
  rig.host.scheduler.rr_quantum.value = 1 * ms;
  auto& m = rig.build();
  cpu::Word& lock = m.memory().word("lock");
  LockHolderRun out;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.store(lock, 1);
    for (int i = 0; i < 300; ++i) c.compute(10 * us);
    c.store(lock, 0);
    for (;;) c.halt();
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    c.spin_until([&] { return c.load(lock) == 0; });
    out.acquired = c.now();
    for (;;) c.halt();
  });
  rig.run(20 * ms);
  out.waiter_ran = m.vcpu(1).run_time();
  out.ple_exits = metric(m, "kvm.ple_exits");
  out.yields = metric(m, "kvm.directed_yields");
  return out;
}
}  // namespace

TEST(WaitPrimitive, APauseLoopExitYieldsToThePreemptedLockHolder) {
  // Without PLE the waiter burns every quantum it gets until the holder has run its 3 ms.
  const LockHolderRun spin = lock_holder_preempted(0);
  EXPECT_EQ(spin.ple_exits, 0);
  EXPECT_GT(spin.waiter_ran, 2 * ms);
  // With PLE it exits after the window (4096 cycles at 2.5 GHz, 1.64 us) and the host yields to
  // the runnable holder: the waiter burns microseconds, the holder finishes sooner.
  const LockHolderRun ple = lock_holder_preempted(128);
  EXPECT_GT(ple.ple_exits, 0);
  EXPECT_GT(ple.yields, 0);
  EXPECT_LT(ple.waiter_ran, 50 * us);
  EXPECT_LT(ple.acquired, spin.acquired);
}

TEST(WaitPrimitive, PreemptedFlagIsSetAtDescheduleAndClearedAtEntry) {
  Rig rig(1, 1);
  auto& load = rig.add_load(cpu::LoadKind::kScript, {0});
  load.windows = {{1 * ms, 3 * ms}};
  load.nice.value = -20;
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(10 * us);
  });
  cpu::Word& flag = m.hypervisor().preempted_word(0);
  std::vector<std::uint64_t> seen;
  for (sim::Tick t : {500 * us, 1 * ms + 1 * ns, 2 * ms, 3 * ms + 1 * ns, 4 * ms})
    m.kernel().at(t, sim::Phase::kCheck, 0,
                  [&] { seen.push_back(cpu::MemoryInspector::value(flag)); });
  rig.run(5 * ms);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 1, 1, 0, 0}));
  EXPECT_EQ(cpu::MemoryInspector::writes(flag), 2u);
}
