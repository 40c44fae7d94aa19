// Seed 000 (DESIGN.md catalogue, MECHANISMS.md section 2): an NMI lands on the timekeeping vCPU
// inside its write section and reads time.
#include <gtest/gtest.h>

#include "scenario_util.hpp"

using namespace vcpusim;
using vcpusim::test::metric;
using vcpusim::test::run_file;
using vcpusim::test::violations;

namespace {
const char* kFile = "nmi-time-read.json";
std::string variant(const char* v) {
  return std::string("guest.timekeeping.nmi_variant=") + v;
}
const sim::Json* first(const tools::RunResult& r, const char* check) {
  for (const auto& v : r.document["violations"])
    if (v["check"] == check) return &v;
  return nullptr;
}
// The first scripted NMI in the file, and the writer's tick (4 ms at hz 250).
constexpr double kNmiNs = 4004645;

void expect_all_complete(const tools::RunResult& r) {
  EXPECT_EQ(violations(r, "no_hang"), 0u);
  EXPECT_EQ(violations(r, "no_deadlock"), 0u);
  EXPECT_EQ(violations(r, "nmi_completes"), 0u);
  // Two scripted NMIs on vCPU0, one per millisecond on vCPU1 over 10 ms: every one read time.
  EXPECT_EQ(metric(r, "nmi.taken"), 2 + 9);
  EXPECT_EQ(metric(r, "nmi_time.reads"), 2 + 9);
  EXPECT_EQ(metric(r, "nmi.dropped"), 0);
  // A completed handler: entry, one time read, exit; nowhere near the 100 us bound.
  EXPECT_LT(metric(r, "nmi.handler_ns.max"), 1000);
}
}  // namespace

TEST(NmiTimeRead, NaiveHangsAtTheNmiOnTheWritingCpu) {
  const auto r = run_file(kFile, {variant("naive")});
  EXPECT_TRUE(r.expect_met) << r.document["expect_unmet"].dump();
  const sim::Json* hang = first(r, "no_hang");
  ASSERT_TRUE(hang);
  EXPECT_EQ((*hang)["cpus"], (sim::Json{0}));
  EXPECT_EQ((*hang)["details"]["waits_on"], "tk_core.seq");
  EXPECT_EQ((*hang)["details"]["holder"], 0);
  // The spin starts right after the NMI is taken (at the next operation boundary of the writer).
  const double since = (*hang)["details"]["since_ns"].get<double>();
  EXPECT_GT(since, kNmiNs);
  EXPECT_LT(since, kNmiNs + 1000);
  EXPECT_DOUBLE_EQ((*hang)["time_ns"].get<double>(), since + 1e6);  // limits.hang_after
  const sim::Json* cycle = first(r, "no_deadlock");
  ASSERT_TRUE(cycle);
  EXPECT_EQ((*cycle)["details"]["cycle"], (sim::Json{0, 0}));
  const sim::Json* nmi = first(r, "nmi_completes");
  ASSERT_TRUE(nmi);
  EXPECT_EQ((*nmi)["cpus"], (sim::Json{0}));
  // The writer never resumes, so the sequence stays odd and vCPU1's next NMI hangs behind it.
  EXPECT_EQ(violations(r, "no_hang"), 2u);
  EXPECT_EQ(metric(r, "timekeeping.updates"), 1);
}

TEST(NmiTimeRead, OwnerShadowCompletesEveryNmiAndTheOwnerReadsTheShadow) {
  // Both scripted NMIs land while vCPU0's sequence is odd: they read the shadow copy.
  const auto r =
      run_file(kFile, {variant("owner-shadow"), "guest.workloads[0].at=[\"4005us\", \"4007us\"]"});
  expect_all_complete(r);
  EXPECT_EQ(metric(r, "nmi_time.shadow_reads"), 2);
  EXPECT_EQ(metric(r, "timekeeping.updates"), 2);
}

TEST(NmiTimeRead, LatchCompletesEveryNmi) {
  const auto r = run_file(kFile, {variant("latch")});
  expect_all_complete(r);
  EXPECT_EQ(metric(r, "nmi_time.shadow_reads"), 0);
}

TEST(NmiTimeRead, OwnerShadowWithoutBarrierHangsInTheReorderingWindow) {
  const auto r = run_file(kFile, {variant("owner-shadow-no-barrier")});
  EXPECT_TRUE(r.expect_met) << r.document["expect_unmet"].dump();
  const sim::Json* hang = first(r, "no_hang");
  ASSERT_TRUE(hang);
  EXPECT_EQ((*hang)["cpus"], (sim::Json{0}));
  const double since = (*hang)["details"]["since_ns"].get<double>();
  EXPECT_GT(since, kNmiNs);
  EXPECT_LT(since, kNmiNs + 1000);
  EXPECT_EQ(metric(r, "nmi_time.shadow_reads"), 0);
}

TEST(NmiTimeRead, OwnerShadowWithoutBarrierCompletesOutsideTheWindow) {
  // 40 ns later the sunk owner store has landed: the same NMI reads the shadow and returns.
  const auto r = run_file(kFile, {variant("owner-shadow-no-barrier"),
                                  "guest.workloads[0].at=[\"4004.685us\", \"4007us\"]"});
  expect_all_complete(r);
  EXPECT_EQ(metric(r, "nmi_time.shadow_reads"), 2);
}

TEST(NmiTimeRead, OwnerShadowWithBarriersHasNoWindow) {
  // Sweep the first NMI across the start of the write section in 5 ns steps: never a hang.
  for (int ns = 580; ns <= 700; ns += 5) {
    const std::string at =
        "guest.workloads[0].at=[\"4004" + std::to_string(1000 + ns).substr(1) + "ns\"]";
    const auto r = run_file(kFile, {variant("owner-shadow"), at});
    EXPECT_EQ(violations(r, "no_hang"), 0u) << at;
    EXPECT_EQ(violations(r, "nmi_completes"), 0u) << at;
  }
}
