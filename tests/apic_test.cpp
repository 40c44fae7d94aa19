// Interrupt delivery between vCPUs (cpu/vm/apic.hpp): what an IPI costs the sender, how long it
// takes to reach the handler for a running, halted or preempted target, halt-polling, PV
// send-IPI, and the NMI latch. Latencies are asserted against the cost model and as ratios.
#include <gtest/gtest.h>

#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick ns = sim::kNanosecond;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

namespace {

double metric(cpu::Machine& m, const std::string& name) {
  const auto* v = m.metrics().find(name);
  if (!v) ADD_FAILURE() << name << " missing";
  return v ? v->get<double>() : -1;
}

// vCPU0 sends an IPI to vCPU1 every `gap`; vCPU1 computes in 100 ns steps with irqs on and shares
// pCPU1 with an always-busy host task under round-robin with `quantum`.
double preempted_latency_p50(sim::Tick quantum, double* running_p50) {
  Rig rig(2, 2, cpu::SchedulerKind::kRr);
  rig.host.scheduler.rr_quantum.value = quantum;
  auto& load = rig.add_load(cpu::LoadKind::kDuty, {1});
  load.busy.value = 10 * sim::kSecond;
  auto& m = rig.build();
  m.vcpu(1).set_handler(cpu::Vector::kIpi, [](cpu::GuestCpu&) {});
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) {
      c.compute(97 * us);
      c.send_ipi(1);
    }
  });
  rig.body(1, [](cpu::GuestCpu& c) {
    for (;;) c.compute(100 * ns);
  });
  rig.run(400 * ms);
  EXPECT_GT(metric(m, "ipi.to_preempted"), 500);
  EXPECT_GT(metric(m, "ipi.to_running"), 500);
  if (running_p50) *running_p50 = metric(m, "ipi.latency_ns.running.p50");
  return metric(m, "ipi.latency_ns.preempted.p50");
}

}  // namespace

TEST(Apic, PreemptedTargetLatencyGrowsWithTheHostSliceRunningTargetPaysAlmostNothing) {
  double running = 0;
  const double short_slice = preempted_latency_p50(1 * ms, &running);
  const double long_slice = preempted_latency_p50(4 * ms, nullptr);
  // IPIs sent while the target is preempted coalesce into one pending interrupt, measured from
  // the first send: that one comes within one send gap (97 us + an exit) of the preemption, and
  // the handler runs when the host task's slice ends.
  const double gap = 98.0 * 1000;
  EXPECT_GE(short_slice, 1e6 - gap);
  EXPECT_LE(short_slice, 1e6);
  EXPECT_GE(long_slice, 4e6 - gap);
  EXPECT_LE(long_slice, 4e6);
  EXPECT_NEAR(long_slice / short_slice, 4.0, 0.5);
  // Posted delivery to a running vCPU: the posting, the rest of a 100 ns step, irq entry.
  const cpu::CostParams c;
  const double bound = static_cast<double>(c.ipi_posted.value + 100 * ns + c.irq_entry.value) / ns;
  EXPECT_LE(running, bound);
  EXPECT_LT(running / short_slice, 0.001);
}

namespace {
// Latency to a halted vCPU1 of one IPI sent at ~1 ms, with the given halt-polling window. A first
// IPI at 10 us ends a short halt, which grows vCPU1's window (from 0, as KVM's starts) to
// `poll` (the grow start).
sim::Tick halted_latency(sim::Tick poll, sim::Tick send_at) {
  Rig rig(2, 2);
  rig.vm.halt_poll_ns.value = poll;
  rig.vm.halt_poll_ns_grow_start.value = poll;
  auto& m = rig.build();
  sim::Tick handled = -1, sent = -1;
  m.vcpu(1).set_handler(cpu::Vector::kIpi, [&](cpu::GuestCpu& c) { handled = c.now(); });
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.compute(10 * us);
    c.send_ipi(1);
    c.compute(send_at - c.now());
    sent = c.now();
    c.send_ipi(1);
    for (;;) c.halt();
  });
  rig.run(5 * ms);
  EXPECT_EQ(m.metrics().find("ipi.to_halted")->get<int>(), 2);
  return handled - sent;
}
}  // namespace

TEST(Apic, HaltedTargetIsWokenThroughTheHostUnlessItIsStillHaltPolling) {
  const cpu::CostParams c;
  // Sender exit and the host's ICR handling (which interrupts the target), host wake-up of the
  // sleeping thread, the target's VM entry, irq entry.
  const sim::Tick send = c.vm_exit.value + c.ipi_send.value;
  EXPECT_EQ(halted_latency(0, 1 * ms),
            send + c.halt_wakeup.value + c.vm_entry.value + c.irq_entry.value);
  // vCPU1 halted again at ~16 us; polling for 2 ms it is still on its pCPU: no host wake-up.
  EXPECT_EQ(halted_latency(2 * ms, 1 * ms), send + c.vm_entry.value + c.irq_entry.value);
  // Polling only 200 us: the poll ended long before, the host wake-up is back.
  EXPECT_EQ(halted_latency(200 * us, 1 * ms),
            send + c.halt_wakeup.value + c.vm_entry.value + c.irq_entry.value);
}

namespace {
std::pair<double, sim::Tick> multicast(bool pv, bool posted) {
  Rig rig(4, 4);
  rig.vm.pv_send_ipi.value = pv;
  rig.vm.posted_interrupts.value = posted;
  auto& m = rig.build();
  sim::Tick cost = -1;
  for (int v = 1; v < 4; ++v) {
    m.vcpu(v).set_handler(cpu::Vector::kIpi, [](cpu::GuestCpu&) {});
    rig.body(v, [](cpu::GuestCpu& c) {
      for (;;) c.compute(100 * ns);
    });
  }
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.compute(10 * us);
    const sim::Tick t = c.now();
    c.send_ipi_many({1, 2, 3});
    cost = c.now() - t;
    for (;;) c.halt();
  });
  rig.run(1 * ms);
  EXPECT_EQ(metric(m, "ipi.to_running"), 3);
  return {metric(m, "ipi.latency_ns.running.max"), cost};
}
}  // namespace

TEST(Apic, PvSendIpiTakesOneExitForAMulticast) {
  const cpu::CostParams c;
  // One exit, handling and entry per ICR write; one for the whole mask with the hypercall.
  const sim::Tick round_trip = c.vm_exit.value + c.ipi_send.value + c.vm_entry.value;
  EXPECT_EQ(multicast(false, true).second, 3 * round_trip);
  EXPECT_EQ(multicast(true, true).second, round_trip);
}

TEST(Apic, WithoutPostedInterruptsTheRunningTargetPaysAnExit) {
  const cpu::CostParams c;
  const double posted = multicast(true, true).first;
  const double exiting = multicast(true, false).first;
  const sim::Tick exit_and_entry = c.vm_exit.value + c.vm_entry.value;
  EXPECT_NEAR(exiting - posted, static_cast<double>(exit_and_entry - c.ipi_posted.value) / ns,
              100.0);
}

TEST(Apic, ASecondNmiIsLatchedWhileOneRunsAThirdIsLost) {
  Rig rig(1, 1);
  auto& m = rig.build();
  std::vector<sim::Tick> starts;
  m.vcpu(0).set_handler(cpu::Vector::kNmi, [&](cpu::GuestCpu& c) {
    starts.push_back(c.now());
    c.compute(10 * us);
  });
  rig.body(0, [](cpu::GuestCpu& c) {
    c.local_irq_save();
    for (;;) c.compute(100 * ns);
  });
  for (sim::Tick t : {100 * us, 102 * us, 104 * us})
    m.kernel().at(t, sim::Phase::kInterrupt, 0, [&m] { m.vcpu(0).raise(cpu::Vector::kNmi); });
  rig.run(1 * ms);
  ASSERT_EQ(starts.size(), 2u);
  // The latched one runs right after the first returns (exit, then entry), nested in no handler.
  const cpu::CostParams& c = rig.costs;
  EXPECT_EQ(starts[1] - starts[0], 10 * us + c.irq_exit.value + c.irq_entry.value);
  EXPECT_EQ(m.vcpu(0).nmis_dropped(), 1u);
}
