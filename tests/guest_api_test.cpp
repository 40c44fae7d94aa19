// The kernel-like guest API: atomics, seqcount read/retry against a concurrent writer.
#include <gtest/gtest.h>

#include <type_traits>

#include "guest/seqcount.hpp"
#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick us = sim::kMicrosecond;

TEST(GuestApi, AtomicsReturnTheOldValue) {
  Rig rig(1, 1);
  auto& m = rig.build();
  cpu::Word& w = m.memory().word("w");
  std::vector<std::uint64_t> seen;
  rig.body(0, [&](cpu::GuestCpu& c) {
    seen.push_back(c.cmpxchg(w, 0, 5));  // succeeds: 0 -> 5
    seen.push_back(c.cmpxchg(w, 0, 9));  // fails: stays 5
    seen.push_back(c.xchg(w, 7));        // 5 -> 7
    seen.push_back(c.fetch_add(w, 3));   // 7 -> 10
    seen.push_back(c.load(w));
    for (;;) c.halt();
  });
  rig.run(1 * sim::kMillisecond);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 5, 5, 7, 10}));
}

namespace {
// Whether `M::write(Word&, value)` can be called from here (an inaccessible member is a
// substitution failure).
template <class M, class = void>
struct CanWrite : std::false_type {};
template <class M>
struct CanWrite<M, std::void_t<decltype(std::declval<M&>().write(std::declval<cpu::Word&>(), 0))>>
    : std::true_type {};
}  // namespace

// A store that skipped GuestCpu would land without its cost and unseen by the wait that read the
// word: guest code (and anything outside cpu/) cannot call Memory::write.
TEST(GuestApi, OnlyGuestCpuWritesGuestMemory) {
  static_assert(!CanWrite<cpu::Memory>::value, "Memory::write is reachable outside GuestCpu");
  Rig rig(1, 1);
  auto& m = rig.build();
  cpu::Word& w = m.memory().word("w");
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.store(w, 3);
    for (;;) c.halt();
  });
  rig.run(1 * sim::kMillisecond);
  EXPECT_EQ(cpu::MemoryInspector::value(w), 3u);
  EXPECT_EQ(cpu::MemoryInspector::writes(w), 1u);
}

TEST(GuestApi, RdtscFollowsSimulatedTimeAtTheConfiguredFrequency) {
  Rig rig(1, 1);
  rig.vm.tsc_frequency.value = 2500000000LL;
  auto& m = rig.build();
  std::uint64_t tsc = 0;
  sim::Tick at = 0;
  rig.body(0, [&](cpu::GuestCpu& c) {
    c.compute(100 * us);
    tsc = c.rdtsc();
    at = c.now();
    for (;;) c.halt();
  });
  rig.run(1 * sim::kMillisecond);
  EXPECT_EQ(tsc, m.tsc_at(at));
  EXPECT_EQ(tsc, static_cast<std::uint64_t>(at / sim::kPicosecond * 25 / 10000));
}

// Setup: a writer updates two words under a seqcount, slowly; a reader on another vCPU reads
// both. Invariant: the reader never returns a torn pair. Expected: it had to retry or wait.
TEST(Seqcount, ReaderNeverSeesATornUpdate) {
  Rig rig(2, 2);
  auto& m = rig.build();
  cpu::Word& seq = m.memory().word("seq");
  cpu::Word& a = m.memory().word("a", seq.line);
  cpu::Word& b = m.memory().word("b", seq.line);
  guest::Seqcount sc(seq);
  int torn = 0, reads = 0;
  rig.body(0, [&](cpu::GuestCpu& c) {
    for (std::uint64_t i = 1;; ++i) {
      sc.write_begin(c);
      c.store(a, i);
      c.compute(2 * us);  // a long write section
      c.store(b, i);
      sc.write_end(c);
      c.compute(3 * us);
    }
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    for (;;) {
      std::uint64_t s, x, y;
      do {
        s = sc.read_begin(c);
        x = c.load(a);
        c.compute(500 * sim::kNanosecond);
        y = c.load(b);
      } while (sc.read_retry(c, s));
      torn += x != y;
      ++reads;
    }
  });
  rig.run(1 * sim::kMillisecond);
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads, 100);
  EXPECT_GT(m.vcpu(1).spin_time(), 0);  // readers waited out write sections
}
