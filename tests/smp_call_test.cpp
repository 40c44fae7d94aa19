// Seed 002 (DESIGN.md catalogue, MECHANISMS.md section 4): two vCPUs with irqs off call each
// other synchronously. The broken variant deadlocks with the wait-for cycle; the fixes complete
// every call exactly once; mainline reports the misuse and nothing hangs.
#include <gtest/gtest.h>

#include "scenario_util.hpp"

using namespace vcpusim;
using vcpusim::test::metric;
using vcpusim::test::run_file;
using vcpusim::test::violations;

namespace {
const char* kFile = "ipi-deadlock.json";
std::string variant(const char* v) {
  return std::string("guest.smp_call.variant=") + v;
}
// Callers x calls per caller in the scenario file.
constexpr std::int64_t kCalls = 2 * 200;

void expect_every_call_ran_once(const tools::RunResult& r) {
  EXPECT_EQ(metric(r, "smp_call.callers_finished"), 2);
  EXPECT_EQ(metric(r, "smp_call.calls"), kCalls);
  EXPECT_EQ(metric(r, "smp_call.expected_runs"), kCalls);
  EXPECT_EQ(metric(r, "smp_call.runs"), kCalls);
  EXPECT_EQ(metric(r, "smp_call.duplicate_runs"), 0);
  EXPECT_EQ(metric(r, "smp_call.not_run"), 0);
  EXPECT_EQ(violations(r, "no_deadlock"), 0u);
  EXPECT_EQ(violations(r, "no_hang"), 0u);
  EXPECT_EQ(violations(r, "api_misuse"), 0u);
}
}  // namespace

TEST(IpiDeadlock, IrqsOffAllowedReportsTheCycleVcpu0Vcpu1Vcpu0) {
  const auto r = run_file(kFile, {variant("irqs-off-allowed")});
  EXPECT_TRUE(r.expect_met) << r.document["expect_unmet"].dump();
  ASSERT_EQ(violations(r, "no_deadlock"), 1u);
  const auto& list = r.document["violations"];
  const auto cycle = std::find_if(list.begin(), list.end(),
                                  [](const auto& v) { return v["check"] == "no_deadlock"; });
  ASSERT_NE(cycle, list.end());
  EXPECT_EQ((*cycle)["details"]["cycle"], (sim::Json{0, 1, 0}));
  EXPECT_EQ((*cycle)["cpus"], (sim::Json{0, 1}));
  EXPECT_NE((*cycle)["message"].get<std::string>().find("vCPU0 -> vCPU1 -> vCPU0"),
            std::string::npos);
  // Each one's csd waits for the other, which services nothing with irqs off.
  for (const auto& w : (*cycle)["details"]["waits"]) {
    EXPECT_EQ(w["needs"], "service");
    EXPECT_FALSE(w["services_requests"].get<bool>());
  }
  // Both then spin for good: one hang each, at the first call plus the bound, and no call ran.
  EXPECT_EQ(violations(r, "no_hang"), 2u);
  EXPECT_EQ(metric(r, "smp_call.runs"), 0);
  EXPECT_EQ(metric(r, "smp_call.callers_finished"), 0);
}

TEST(IpiDeadlock, WithIrqsOnTheSameCallsComplete) {
  const auto r = run_file(kFile, {variant("irqs-off-allowed"), "guest.workloads[0].irqs=on"});
  expect_every_call_ran_once(r);
}

TEST(IpiDeadlock, PollOwnQueueCompletesEveryCallExactlyOnce) {
  const auto r = run_file(kFile, {variant("poll-own-queue")});
  expect_every_call_ran_once(r);
  // The deadlock was broken by the waiters running each other's calls from their own queue.
  EXPECT_GT(metric(r, "smp_call.polled_flushes"), 0);
}

TEST(IpiDeadlock, GlobalLockCompletesEveryCallExactlyOnce) {
  const auto r = run_file(kFile, {variant("global-lock")});
  expect_every_call_ran_once(r);
}

TEST(IpiDeadlock, AssertIrqsEnabledReportsTheMisuseAndNothingHangs) {
  const auto r = run_file(kFile, {variant("assert-irqs-enabled")});
  EXPECT_EQ(violations(r, "api_misuse"), static_cast<std::size_t>(kCalls));
  EXPECT_EQ(violations(r, "no_deadlock"), 0u);
  EXPECT_EQ(violations(r, "no_hang"), 0u);
  EXPECT_EQ(metric(r, "smp_call.refused"), kCalls);
  EXPECT_EQ(metric(r, "smp_call.callers_finished"), 2);
  const auto& first = r.document["violations"][0];
  EXPECT_EQ(first["check"], "api_misuse");
  EXPECT_NE(first["message"].get<std::string>().find("irqs disabled"), std::string::npos);
}

TEST(IpiDeadlock, ManyCallsRunOncePerTarget) {
  // Each vCPU on its own pCPU: with two targets sharing one, a waiter spins for the host's slice
  // while its target is preempted (no_hang with the 5 ms bound), which is the seed's VM problem.
  const auto r =
      run_file(kFile, {variant("poll-own-queue"), "host.pcpus=3", "vm.vcpus=3",
                       "vm.pinning=[[0],[1],[2]]", "guest.workloads[0].vcpus=[0,1,2]",
                       "guest.workloads[0].targets=[0,1,2]", "guest.workloads[0].mode=many"});
  EXPECT_EQ(metric(r, "smp_call.callers_finished"), 3);
  EXPECT_EQ(metric(r, "smp_call.expected_runs"), 3 * 200 * 2);
  EXPECT_EQ(metric(r, "smp_call.runs"), 3 * 200 * 2);
  EXPECT_EQ(metric(r, "smp_call.duplicate_runs"), 0);
  EXPECT_EQ(violations(r, "no_hang"), 0u);
}

TEST(IpiDeadlock, APreemptedTargetStallsTheWaiterForTheHostSliceUnlessPleYields) {
  const std::vector<std::string> sets = {variant("poll-own-queue"),
                                         "vm.vcpus=3",
                                         "vm.pinning=[[0],[1],[1]]",
                                         "guest.workloads[0].vcpus=[0,1,2]",
                                         "guest.workloads[0].targets=[0,1,2]",
                                         "guest.workloads[0].mode=many",
                                         "limits.hang_after=20ms"};
  // Without pause-loop exiting: no deadlock and no duplicate, but a call's completion takes a
  // fair-scheduler slice (6 ms scaled x2 for 2 pCPUs, shared by the two vCPUs of pCPU1).
  auto no_ple = sets;
  no_ple.push_back("vm.ple_gap=0");
  const auto r = run_file(kFile, no_ple);
  EXPECT_EQ(violations(r, "no_deadlock"), 0u);
  EXPECT_EQ(metric(r, "smp_call.duplicate_runs"), 0);
  EXPECT_GT(metric(r, "smp_call.latency_ns.max"), 5000000);
  EXPECT_GT(metric(r, "ipi.to_preempted"), 0);
  EXPECT_EQ(metric(r, "kvm.ple_exits"), 0);
  // With it (KVM's default): the waiter exits after the PLE window and the host yields to the
  // preempted target on the same pCPU, so no completion waits anywhere near a slice.
  const auto p = run_file(kFile, sets);
  EXPECT_EQ(metric(p, "smp_call.duplicate_runs"), 0);
  EXPECT_GT(metric(p, "kvm.ple_exits"), 0);
  EXPECT_GT(metric(p, "kvm.directed_yields"), 0);
  EXPECT_LT(metric(p, "smp_call.latency_ns.max"), 1000000);
}
