// The monotonic_time checker on hand-made read sequences.
#include "sim/checks/checks.hpp"

#include <gtest/gtest.h>

using namespace vcpusim::sim;

namespace {
struct Reads {
  Violations out;
  MonotonicTimeCheck check{out};
  void read(int cpu, Tick start, Tick end, std::int64_t value) {
    check.read_started(cpu);
    check.read_finished(cpu, start, end, value, "test");
  }
};
}  // namespace

TEST(MonotonicTime, SameReaderGoingBackIsAViolation) {
  Reads r;
  r.read(0, 0, 10, 100);
  r.read(0, 20, 30, 90);
  ASSERT_EQ(r.out.count("monotonic_time"), 1u);
  const auto& v = r.out.list()[0];
  EXPECT_EQ(v.details["backward_step_ns"], 10);
  EXPECT_EQ(v.details["scope"], "same reader");
  EXPECT_EQ(v.cpus, std::vector<int>{0});
}

TEST(MonotonicTime, AReadStartingAfterAnotherEndedMustNotReturnLess) {
  Reads r;
  r.read(1, 0, 10, 500);   // vCPU1 reads 500 and finishes at 10
  r.read(0, 20, 30, 450);  // vCPU0 starts later and sees less
  ASSERT_EQ(r.out.count("monotonic_time"), 1u);
  EXPECT_EQ(r.out.list()[0].details["scope"], "across CPUs");
  EXPECT_EQ(r.out.list()[0].cpus, (std::vector<int>{1, 0}));
}

TEST(MonotonicTime, OverlappingReadsMayDisagree) {
  Reads r;
  // vCPU0's read starts before vCPU1's read ends: no real-time order between them.
  r.check.read_started(0);
  r.read(1, 0, 10, 500);
  r.check.read_finished(0, 5, 30, 450, "test");
  EXPECT_EQ(r.out.count("monotonic_time"), 0u);
}

TEST(MonotonicTime, OneViolationPerEpisodeButEveryBackwardReadCounted) {
  Reads r;
  r.read(0, 0, 10, 1000);
  r.read(0, 20, 30, 900);   // the step: reported
  r.read(0, 40, 50, 950);   // still behind 1000: same episode, counted only
  r.read(0, 60, 70, 1010);  // caught up
  r.read(0, 80, 90, 1005);  // a new step back: reported
  EXPECT_EQ(r.out.count("monotonic_time"), 2u);
  EXPECT_EQ(r.check.backward_reads(), 3u);
  EXPECT_EQ(r.check.reads(), 5u);
}

// Two readers behind the same stale clock: one episode, one violation, each reader counted.
TEST(MonotonicTime, ReadersBehindTogetherAreOneEpisode) {
  Reads r;
  r.read(0, 0, 10, 1000);
  r.read(1, 12, 18, 1008);
  r.read(0, 20, 30, 900);   // reader 0 falls behind: a new episode, reported
  r.read(1, 32, 38, 910);   // reader 1 falls behind while reader 0 still is: the same episode
  r.read(0, 40, 50, 1020);  // both catch up
  r.read(1, 52, 58, 1030);
  r.read(1, 60, 70, 1000);  // a later step back, nobody else behind: a second episode
  EXPECT_EQ(r.out.count("monotonic_time"), 2u);
  EXPECT_EQ(r.check.backward_reads(), 3u);
  EXPECT_EQ(r.check.episodes_by_reader(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(r.out.list()[0].cpus, (std::vector<int>{1, 0}));  // behind reader 1's 1008
  EXPECT_EQ(r.out.list()[1].cpus, std::vector<int>{1});
}

TEST(Violations, CountsEverythingKeepsTheFirstThousand) {
  Violations v;
  for (int i = 0; i < 1500; ++i) v.report(Violation{"x", i, {0}, "m", {}});
  EXPECT_EQ(v.count("x"), 1500u);
  EXPECT_EQ(v.list().size(), Violations::kKept);
  EXPECT_EQ(v.total(), 1500u);
}
