// Host noise (cpu/host/host_noise.hpp): interrupts take the pCPU from the running vCPU, so a busy
// vCPU's steal is what the interrupts cost; thread noise competes as nice-0 threads; with noise
// off nothing of a run changes; and noise ends the 1x tie of the lock kinds (issue 24).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "decoupling_util.hpp"
#include "rig.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;
using sim::kMicrosecond;
using sim::kMillisecond;
using sim::kNanosecond;
using sim::kSecond;

namespace {

// One busy vCPU alone on one pCPU: without noise it never waits, so every tick of its steal is
// noise. Only the interrupt sources asked for are on.
struct BusyRig {
  test::Rig rig{1, 1};
  explicit BusyRig(bool softirq) {
    rig.host.noise.enabled.value = true;
    rig.host.noise.kworker.rate.value = 0;
    if (!softirq) rig.host.noise.softirq.rate.value = 0;
    else rig.host.noise.irq.rate.value = 0;
    rig.build();
    rig.body(0, [](cpu::GuestCpu& c) {
      for (;;) c.compute(10 * kMicrosecond);
    });
  }
  sim::Tick steal() { return rig.machine->vcpu(0).steal_time(); }
  std::int64_t metric(const std::string& name) {
    return rig.machine->metrics().values().at(name).get<std::int64_t>();
  }
};

}  // namespace

// Premise: the default irq source (1000 Hz periodic, lengths uniform in [1.8us, 2.9us]) on a
// pCPU whose only thread is a busy vCPU. Invariant: the vCPU is runnable whenever an interrupt
// holds its pCPU, so its steal is the interrupts' total length. Expected, over 1 s: N = 1000 or
// 1001 interrupts (the phase is in [0, 1 ms)), steal = N x 2.35us within 4 sigma of the sum of N
// uniform lengths (sigma = sqrt(N) x 1.1us / sqrt(12) = 10us), plus one length cut by the end.
TEST(HostNoise, PeriodicIrqStealsRateTimesMeanLength) {
  BusyRig r(false);
  r.rig.run(kSecond);
  const std::int64_t n = r.metric("host.noise.irq.events");
  EXPECT_GE(n, 1000);
  EXPECT_LE(n, 1001);
  const double mean = 2350.0 * static_cast<double>(n);  // ns
  const double sigma = std::sqrt(static_cast<double>(n)) * 1100.0 / std::sqrt(12.0);
  const double steal_ns = static_cast<double>(r.steal()) / kNanosecond;
  EXPECT_NEAR(steal_ns, mean, 4 * sigma + 2900.0);
  // And exactly what the source drew (the metric is in whole ns), but for a length the run's end
  // cut.
  EXPECT_LE(steal_ns, static_cast<double>(r.metric("host.noise.irq.ns")) + 1.0);
  EXPECT_GE(steal_ns, static_cast<double>(r.metric("host.noise.irq.ns")) - 2900.0);
}

// Premise: poisson softirqs at 25 per second... raised to 2000 per second so that 1 s holds
// enough of them, exponential lengths of mean 10us. Expected: the count N is Poisson(2000)
// (within 4 sqrt(2000) = 179), and the steal, a compound Poisson sum, has mean
// rate x T x mean = 20 ms and sigma sqrt(rate x T x E[L^2]) = sqrt(2000 x 2 x (10us)^2) = 632us:
// within 4 sigma.
TEST(HostNoise, PoissonSoftirqStealsRateTimesMeanLength) {
  BusyRig r(true);
  r.rig.host.noise.softirq.rate.value = 2000;
  r.rig.run(kSecond);
  EXPECT_NEAR(static_cast<double>(r.metric("host.noise.softirq.events")), 2000.0, 179.0);
  EXPECT_NEAR(static_cast<double>(r.steal()) / kNanosecond, 20e6, 4 * 632e3);
}

// Premise: kworkers only, 500 work items a second of 100us each, on a pCPU shared with a busy
// vCPU of the same weight. Invariant: the kworker is a nice-0 thread, not an interrupt: it waits
// for the vCPU's slice like any thread, and its CPU time is what its items asked for. Expected:
// the vCPU's steal equals the kworker's run time (the only other thread), 5% of the second
// within 4 sigma of the compound Poisson sum (sqrt(500 x 2 x (100us)^2) = 3.2 ms), and the
// kworker waited at least once behind the vCPU.
TEST(HostNoise, KworkerIsAThreadThatWaitsForItsTurn) {
  test::Rig rig(1, 1);
  rig.host.noise.enabled.value = true;
  rig.host.noise.irq.rate.value = 0;
  rig.host.noise.softirq.rate.value = 0;
  rig.host.noise.kworker.rate.value = 500;
  rig.host.noise.kworker.duration.value = 100 * kMicrosecond;
  rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(10 * kMicrosecond);
  });
  rig.run(kSecond);
  const auto& m = rig.machine->metrics().values();
  const double steal_ns = static_cast<double>(rig.machine->vcpu(0).steal_time()) / kNanosecond;
  const double busy_ns =
      static_cast<double>(rig.machine->scheduler().busy_time(0, cpu::HostThread::Kind::kLoad)) /
      kNanosecond;
  EXPECT_NEAR(steal_ns, busy_ns, 1.0);
  EXPECT_NEAR(busy_ns, 50e6, 4 * 3.2e6);
  EXPECT_LE(busy_ns,
            static_cast<double>(m.at("host.noise.kworker.ns").get<std::int64_t>()) + 1.0);
}

// Premise: noise switched off but with every source's parameters changed. Expected: the run is
// the plain one, byte for byte (the same fingerprint and metrics); switched on, it is not.
TEST(HostNoise, OffIsByteIdenticalToNoNoiseSection) {
  const auto plain = test::run_file("lock-holder-preemption.json");
  const auto off = test::run_file(
      "lock-holder-preemption.json",
      {"host.noise={\"enabled\":false,\"emulator_threads\":3,\"irq\":{\"rate\":\"5kHz\"},"
       "\"softirq\":{\"rate\":\"1kHz\"},\"kworker\":{\"rate\":\"1kHz\"},"
       "\"emulator\":{\"rate\":\"1kHz\"}}"});
  EXPECT_EQ(plain.document["fingerprint"], off.document["fingerprint"]);
  EXPECT_EQ(plain.document["metrics"], off.document["metrics"]);
  const auto on = test::run_file("lock-holder-preemption.json", {"host.noise.enabled=true"});
  EXPECT_NE(plain.document["fingerprint"], on.document["fingerprint"]);
}

// Premise: the same scenario with every noise source on, run with and without temporal
// decoupling. Expected: byte-identical results (noise events stop inline advances like any
// event), and decoupling still engaged.
TEST(HostNoise, IdenticalWithoutDecoupling) {
  const auto s = tools::Scenario::load(
      test::scenario_path("lock-holder-preemption.json"),
      {"host.noise={\"enabled\":true,\"emulator\":{\"rate\":\"2kHz\"},"
       "\"kworker\":{\"rate\":\"500Hz\"}}",
       "duration=\"20ms\""});
  const test::BothWays r = test::run_both_ways(*s);
  EXPECT_EQ(r.decoupled.document, r.event_path.document);
  EXPECT_EQ(r.decoupled.document.find("simulation error"), std::string::npos);
  EXPECT_LT(r.decoupled.kernel_events, r.event_path.kernel_events);
}

// Premise: Long's 1x column (32 vCPUs on 32 pCPUs, bench/lock-overcommit.json, 20 ms), the five
// kinds of his table (ticket, pvticket, qspinlock, pvqspinlock and the unfair tas), without and
// with noise at its documented defaults. Without noise nothing preempts a vCPU at 1x; with it,
// interrupts land inside critical sections. Expected: no holder preemption without noise, some
// for every kind with it; the four fair locks lose throughput (the noise takes 0.29% of each
// pCPU: 0.235% irq + 0.02% softirq + 0.03% kworker, and a preempted holder makes its waiters
// wait too), the unfair tas may gain (a preempted contender is one fewer on the line); no kind
// moves by 5%; and the spread between the kinds does not widen: noise at the cited rates does
// not explain the 65% spread of Long's 1x column (docs/host-noise.md records the gap).
TEST(HostNoise, AtOneXNoisePreemptsHoldersButDoesNotOpenLongsSpread) {
  const std::vector<std::string> kinds = {"ticket", "pvticket", "qspinlock", "pvqspinlock", "tas"};
  auto spread = [&](bool noise, std::vector<double>& rate) {
    double lo = 1e300, hi = 0;
    for (const std::string& k : kinds) {
      const auto s = tools::Scenario::load(
          std::string(VCPUSIM_SOURCE_DIR) + "/bench/lock-overcommit.json",
          {"guest.locks.kind=" + k, "duration=\"20ms\"",
           std::string("host.noise.enabled=") + (noise ? "true" : "false")});
      const auto r = tools::run_scenario(*s);
      const auto& m = r.document["metrics"];
      const auto preemptions = m.at("locks.holder_preemptions").get<std::int64_t>();
      if (noise) EXPECT_GT(preemptions, 0) << k;
      else EXPECT_EQ(preemptions, 0) << k;
      rate.push_back(m.at("locks.acquisitions_per_s").get<double>());
      lo = std::min(lo, rate.back());
      hi = std::max(hi, rate.back());
    }
    return hi / lo - 1;
  };
  std::vector<double> quiet, noisy;
  const double quiet_spread = spread(false, quiet);
  const double noisy_spread = spread(true, noisy);
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i] != "tas") {
      EXPECT_LT(noisy[i], quiet[i]) << kinds[i];
    }
    EXPECT_NEAR(noisy[i] / quiet[i], 1.0, 0.05) << kinds[i];
  }
  EXPECT_LE(noisy_spread, quiet_spread + 0.01);
  EXPECT_LT(noisy_spread, 0.65 / 2);
  std::printf("1x spread of the five kinds: %.2f%% without noise, %.2f%% with\n",
              100 * quiet_spread, 100 * noisy_spread);
}
