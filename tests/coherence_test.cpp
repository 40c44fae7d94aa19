// The cacheline coherence cost model (cpu/vm/coherence.hpp): what an access costs by where the line
// is, what taking it exclusive costs, how the line's owner answers one request at a time (so the
// N spinners on a seqcount refetch it one after another after a write), and the per-line and
// per-CPU transfer counts.
#include <gtest/gtest.h>

#include <algorithm>

#include "guest/seqcount.hpp"
#include "rig.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick ns = sim::kNanosecond;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

namespace {

// A seqcount writer on vCPU0 (pCPU0) and `readers` vCPUs on pCPUs 1..readers spinning in
// read_begin while the write section runs; returns, per reader, the time from the write_end store
// landing to the reader's read_begin returning.
std::vector<sim::Tick> reader_latencies(int readers, Rig& rig) {
  // Only the line's queue is measured: a reader inside a pause-loop exit when the write lands
  // (exit, costs.ple_handler, entry) would add the exit's handling to its latency.
  rig.vm.ple_gap.value = 0;
  auto& m = rig.build();
  cpu::Word& seq_word = m.memory().word("seq");
  guest::Seqcount seq(seq_word);
  sim::Tick released = -1;
  std::vector<sim::Tick> done(static_cast<std::size_t>(readers), -1);
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.compute(10 * us);
    seq.write_begin(c);
    c.compute(5 * us);  // every reader is spinning on the odd count by now
    seq.write_end(c);
    released = c.now();  // the store has landed: the readers are woken now
    for (;;) c.halt();
  });
  for (int r = 1; r <= readers; ++r)
    rig.body(r, [&, r](cpu::GuestCpu& c) {
      c.compute(12 * us);  // after write_begin: read_begin spins
      seq.read_begin(c);
      done[static_cast<std::size_t>(r - 1)] = c.now();
      for (;;) c.halt();
    });
  rig.run(1 * ms);
  std::vector<sim::Tick> latency;
  for (sim::Tick t : done) latency.push_back(t - released);
  return latency;
}

sim::Tick max_reader_latency(int readers) {
  Rig rig(readers + 1, readers + 1);
  const auto l = reader_latencies(readers, rig);
  return *std::max_element(l.begin(), l.end());
}

}  // namespace

// The write makes every spinner re-load the count; the line's owner answers one request at a
// time, so the k-th reader in line gets it k transfers after the recheck. The last of N readers
// returns N transfers (plus the recheck and the load) after the write: it grows linearly with N.
TEST(Coherence, SeqcountRefetchesAfterAWriteAreServedOneAtATime) {
  const cpu::CostParams c;
  const sim::Tick transfer = c.cacheline_same_socket.value;
  std::vector<sim::Tick> max_latency;
  for (int n : {2, 4, 8}) {
    const sim::Tick got = max_reader_latency(n);
    const sim::Tick predicted = c.spin_recheck.value + c.load.value + n * transfer;
    EXPECT_GE(got, predicted - transfer) << n << " readers";
    EXPECT_LE(got, predicted + transfer) << n << " readers";
    max_latency.push_back(got);
  }
  // Doubling the readers adds as many transfers again as there were readers.
  EXPECT_NEAR(static_cast<double>(max_latency[1] - max_latency[0]),
              static_cast<double>(2 * transfer), static_cast<double>(transfer) / 2);
  EXPECT_NEAR(static_cast<double>(max_latency[2] - max_latency[1]),
              static_cast<double>(4 * transfer), static_cast<double>(transfer) / 2);
}

namespace {

// One access of `pcpu` to `w` at `at` (a vCPU pinned to each pCPU); returns its cost.
struct Step {
  int pcpu;
  bool write;
  sim::Tick at;
};

std::vector<sim::Tick> costs_of(Rig& rig, const std::vector<Step>& steps, cpu::Word*& word) {
  auto& m = rig.build();
  cpu::Word& w = m.memory().word("line");
  word = &w;
  std::vector<sim::Tick> cost(steps.size(), -1);
  for (int p = 0; p < rig.host.pcpus.value; ++p)
    rig.body(p, [&, p](cpu::GuestCpu& c) {
      for (std::size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].pcpu != p) continue;
        c.compute(steps[i].at - c.now());
        const sim::Tick t = c.now();
        if (steps[i].write)
          c.store(w, i);
        else
          c.load(w);
        cost[i] = c.now() - t - (steps[i].write ? rig.costs.store.value : rig.costs.load.value);
      }
      for (;;) c.halt();
    });
  rig.run(1 * ms);
  return cost;
}

}  // namespace

// 8 pCPUs, 2 threads per core, 2 sockets: pCPU1 is pCPU0's SMT sibling, pCPU2 is on its socket,
// pCPU4 on the other one.
TEST(Coherence, AnAccessCostsByWhereTheLineIsAndAWriteWaitsForTheFarthestCopy) {
  Rig rig(8, 8);
  rig.host.threads_per_core.value = 2;
  rig.host.sockets.value = 2;
  const cpu::CostParams& c = rig.costs;
  cpu::Word* w = nullptr;
  const auto cost = costs_of(rig,
                             {{0, true, 10 * us},   // first touch: in memory, no transfer
                              {1, false, 20 * us},  // from the sibling
                              {2, false, 30 * us},  // nearest copy on the socket
                              {4, false, 40 * us},  // from the other socket
                              {6, false, 50 * us},  // the nearest copy is pCPU4's, same socket
                              {0, true, 60 * us},   // held shared: waits for pCPU4 and 6 to drop it
                              {0, true, 70 * us},   // now exclusive: a hit
                              {3, true, 80 * us}},  // RFO from pCPU0, same socket
                             w);
  EXPECT_EQ(cost, (std::vector<sim::Tick>{
                      0, c.cacheline_same_core.value, c.cacheline_same_socket.value,
                      c.cacheline_cross_socket.value, c.cacheline_same_socket.value,
                      c.cacheline_cross_socket.value, 0, c.cacheline_same_socket.value}));
  const cpu::Memory& mem = rig.machine->memory();
  EXPECT_EQ(mem.line_transfers(w->line), 6u);
  EXPECT_EQ(mem.transfers(), 6u);
  EXPECT_EQ(mem.pcpu_transfers(0), 1u);
  EXPECT_EQ(mem.pcpu_transfers(3), 1u);
  EXPECT_EQ(mem.pcpu_transfers(6), 1u);
  EXPECT_EQ(mem.pcpu_transfers(7), 0u);
  EXPECT_EQ(mem.coherence().invalidations(), 4u + 1u);  // pCPUs 1, 2, 4, 6, then 0
  const sim::Json report = mem.coherence().report(10);
  EXPECT_EQ(report["same_core"], 1);
  EXPECT_EQ(report["same_socket"], 3);
  EXPECT_EQ(report["cross_socket"], 2);
  EXPECT_EQ(report["top_lines"][0]["name"], "line");
  EXPECT_EQ(report["top_lines"][0]["transfers"], 6);
}

// The result JSON's coherence section: totals that add up, one entry per pCPU, the busiest lines
// named by their first word, most transfers first.
TEST(Coherence, TheResultJsonReportsTransfersPerPcpuAndTheBusiestLines) {
  const auto r = test::run_file("ipi-deadlock.json", {"guest.smp_call.variant=poll-own-queue"});
  const sim::Json& c = r.document["coherence"];
  EXPECT_EQ(c["transfers"], r.document["metrics"]["memory.cacheline_transfers"]);
  EXPECT_EQ(c["transfers"].get<std::uint64_t>(), c["same_core"].get<std::uint64_t>() +
                                                     c["same_socket"].get<std::uint64_t>() +
                                                     c["cross_socket"].get<std::uint64_t>());
  ASSERT_EQ(c["per_pcpu"].size(), 2u);
  EXPECT_EQ(c["transfers"],
            c["per_pcpu"][0].get<std::uint64_t>() + c["per_pcpu"][1].get<std::uint64_t>());
  const sim::Json& lines = c["top_lines"];
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0]["name"], "csd_stack.vCPU0.flags");
  for (std::size_t i = 1; i < lines.size(); ++i)
    EXPECT_GE(lines[i - 1]["transfers"], lines[i]["transfers"]);
}
