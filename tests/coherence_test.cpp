// The cacheline coherence cost model (cpu/coherence.hpp): what an access costs by where the line
// is, what taking it exclusive costs, how the line's owner answers one request at a time (so the
// N spinners on a seqcount refetch it one after another after a write), and the per-line and
// per-CPU transfer counts.
#include <gtest/gtest.h>

#include <algorithm>

#include "guest/seqcount.hpp"
#include "rig.hpp"

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
