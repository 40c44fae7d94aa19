// KVM halt-polling (cpu/vm/hypervisor.hpp, virt/kvm/kvm_main.c kvm_vcpu_halt): a pv_wait'ing vCPU
// kicked while its host thread still polls is back in the guest after a VM entry only; a sleeping
// one pays the host wake-up first. The per-vCPU window starts at 0, grows from
// halt_poll_ns_grow_start after halts that a longer window would have caught, and shrinks after
// halts longer than vm.halt_poll_ns.
#include <gtest/gtest.h>

#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick ns = sim::kNanosecond;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

namespace {

struct Kicks {
  std::vector<sim::Tick> windows;  // vCPU1's poll window after each wake-up
  double wakeup_p50_ns = -1;       // kvm.halt_wakeup_ns.p50: kick sent -> guest code running
  double wakeup_max_ns = -1;
  std::int64_t success = -1, fail = -1;
};

// vCPU1 pv_waits on a flag; vCPU0 sets it and kicks vCPU1 after each of `gaps`.
Kicks kick_after(const std::vector<sim::Tick>& gaps, sim::Tick max_poll, std::int64_t shrink = 0) {
  Rig rig(2, 2);
  rig.vm.halt_poll_ns.value = max_poll;
  rig.vm.halt_poll_ns_shrink.value = shrink;
  auto& m = rig.build();
  cpu::Word& flag = m.memory().word("flag");
  Kicks out;
  rig.body(1, [&](cpu::GuestCpu& c) {
    std::uint64_t seen = 0;
    for (;;) {
      while (c.load(flag) == seen) c.pv_wait(flag, seen);
      seen = c.load(flag);
      out.windows.push_back(m.hypervisor().halt_poll_ns(1));
    }
  });
  rig.body(0, [&](cpu::GuestCpu& c) {
    std::uint64_t n = 0;
    for (sim::Tick gap : gaps) {
      c.compute(gap);
      c.store(flag, ++n);
      c.pv_kick(1);
    }
    for (;;) c.halt();
  });
  sim::Tick total = 0;
  for (sim::Tick g : gaps) total += g;
  rig.run(total + 1 * ms);
  const auto metric = [&m](const std::string& k) {
    const auto* v = m.metrics().find(k);
    return v ? v->get<double>() : -1.0;
  };
  out.wakeup_p50_ns = metric("kvm.halt_wakeup_ns.p50");
  out.wakeup_max_ns = metric("kvm.halt_wakeup_ns.max");
  out.success = static_cast<std::int64_t>(metric("kvm.halt_poll_success"));
  out.fail = static_cast<std::int64_t>(metric("kvm.halt_poll_fail"));
  return out;
}

}  // namespace

TEST(HaltPoll, PollingWakeupSkipsTheHostWakeupAndTheWindowGrowsFromGrowStart) {
  const cpu::CostParams c;
  const cpu::VmParams vm;
  const std::vector<sim::Tick> gaps(12, 50 * us);
  // Without polling every kick finds vCPU1's thread asleep: host wake-up, then the VM entry.
  const Kicks off = kick_after(gaps, 0);
  EXPECT_EQ(off.wakeup_p50_ns, static_cast<double>((c.halt_wakeup.value + c.vm_entry.value) / ns));
  EXPECT_EQ(off.success, 0);
  EXPECT_EQ(off.fail, 0);
  for (sim::Tick w : off.windows) EXPECT_EQ(w, 0);

  // With a 200 us cap: the first halt does not poll (the window starts at 0); each ~50 us halt is
  // within the cap but beyond the window, so the window grows 10, 20, 40, 80 us; from then on
  // the kick arrives while the host polls: no host wake-up, the entry only.
  const Kicks on = kick_after(gaps, 200 * us);
  ASSERT_EQ(on.windows.size(), gaps.size());
  const sim::Tick start = vm.halt_poll_ns_grow_start.value;
  for (std::size_t i = 0; i < on.windows.size(); ++i)
    EXPECT_EQ(on.windows[i], start << std::min<std::size_t>(i, 3)) << "after wake-up " << i;
  EXPECT_EQ(on.fail, 3);  // the polls of 10, 20 and 40 us
  EXPECT_EQ(on.success, static_cast<std::int64_t>(gaps.size()) - 4);
  EXPECT_EQ(on.wakeup_p50_ns, static_cast<double>(c.vm_entry.value / ns));
  EXPECT_EQ(off.wakeup_p50_ns - on.wakeup_p50_ns, static_cast<double>(c.halt_wakeup.value / ns));
}

TEST(HaltPoll, HaltsLongerThanTheCapShrinkTheWindow) {
  const cpu::VmParams vm;
  const sim::Tick start = vm.halt_poll_ns_grow_start.value;
  // Four short halts grow the window to 80 us, then halts of 1 ms (beyond the 200 us cap).
  std::vector<sim::Tick> gaps(5, 50 * us);
  gaps.insert(gaps.end(), 4, 1 * ms);
  // halt_poll_ns_shrink 0 (KVM's default): the first long halt resets the window to 0; the next
  // long halt leaves it there (nothing to shrink, and too long to grow).
  const Kicks reset = kick_after(gaps, 200 * us);
  ASSERT_EQ(reset.windows.size(), gaps.size());
  EXPECT_EQ(reset.windows[4], 8 * start);
  for (std::size_t i = 5; i < gaps.size(); ++i) EXPECT_EQ(reset.windows[i], 0) << i;
  // halt_poll_ns_shrink 2: halved on each long halt, 40, 20, 10 us, then 5 us is below the grow
  // start and resets to 0.
  const Kicks halve = kick_after(gaps, 200 * us, 2);
  ASSERT_EQ(halve.windows.size(), gaps.size());
  EXPECT_EQ(halve.windows[5], 4 * start);
  EXPECT_EQ(halve.windows[6], 2 * start);
  EXPECT_EQ(halve.windows[7], start);
  EXPECT_EQ(halve.windows[8], 0);
}
