// Issue 12: a 1024-vCPU machine builds and runs (correctness, not timing): 1 ms of the scale
// scenario (tests/scale_scenario.hpp), 1024 vCPUs on 256 pCPUs, half vDSO readers, half busy.
#include <gtest/gtest.h>

#include "tests/scale_scenario.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim {
namespace {

TEST(Scale, ThousandVcpusRunOneMillisecond) {
  constexpr int kVcpus = 1024;
  auto s = tools::Scenario::from_json(test::scale_scenario(kVcpus, "1ms"), "scale-1024");
  const tools::RunResult r = tools::run_scenario(*s);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.document["simulated_ns"], 1000000);
  const auto& m = r.document["metrics"];
  // Four runnable vCPUs per pCPU and no host load: every pCPU runs vCPUs the whole millisecond
  // but for the switches between them.
  for (int p = 0; p < kVcpus / 4; ++p)
    EXPECT_GT(m["host.pcpu" + std::to_string(p) + ".vcpu_fraction"].get<double>(), 0.9) << p;
  // Each pCPU's time goes to its vCPUs and nowhere else: run time sums to pCPUs x 1 ms at most.
  std::int64_t run_ns = 0;
  for (int v = 0; v < kVcpus; ++v)
    run_ns += m["vcpu" + std::to_string(v) + ".run_ns"].get<std::int64_t>();
  EXPECT_LE(run_ns, std::int64_t{kVcpus / 4} * 1000000);
  EXPECT_GT(run_ns, std::int64_t{kVcpus / 4} * 900000);
  // The reader placed first on each pCPU reads for the millisecond (a host slice is longer); a
  // read costs at least its 200 ns think time. No NTP step: time never goes backwards.
  const auto reads = m["reader_latency_ns.vdso.count"].get<std::int64_t>();
  EXPECT_GT(reads, std::int64_t{kVcpus / 4} * 100);
  EXPECT_LE(reads, std::int64_t{kVcpus / 4} * 5000);
  EXPECT_EQ(r.document["violation_counts"]["monotonic_time"], 0);
}

}  // namespace
}  // namespace vcpusim
