// RCU and SRCU under vCPU preemption (scenarios/rcu-grace-period.json, seeds 000 and 002):
// host load on one vCPU's pCPU stretches synchronize_rcu, and the result and the trace name the
// descheduled vCPU; a CPU spinning with irqs off on its own grace period hangs; SRCU domains are
// independent; guest objects report use after free.
#include <gtest/gtest.h>

#include <algorithm>

#include "cpu/trace_lanes.hpp"
#include "guest/guest_objects.hpp"
#include "guest/sched.hpp"
#include "rig.hpp"
#include "scenario_util.hpp"
#include "tools/run/trace_io.hpp"

using namespace vcpusim;

namespace {

const char* kGp = "rcu-grace-period.json";

std::int64_t at(const tools::RunResult& r, const std::string& k) {
  return test::metric(r, k);
}

}  // namespace

TEST(RcuGracePeriod, HostLoadOnOneVcpuStretchesSynchronizeRcuTenfold) {
  const auto loaded = test::run_file(kGp);
  const auto idle = test::run_file(kGp, {"host.load=[]"});
  ASSERT_TRUE(loaded.expect_met) << loaded.document["expect_unmet"].dump();
  const std::int64_t max_loaded = at(loaded, "rcu.sync_latency_ns.max");
  const std::int64_t max_idle = at(idle, "rcu.sync_latency_ns.max");
  ASSERT_GT(max_idle, 0);
  EXPECT_GE(max_loaded, 10 * max_idle) << max_loaded << " vs " << max_idle;
  // Unloaded, every vCPU reaches cond_resched within a read section and a think (3 us) of the
  // grace period's start: no grace period comes near the 1 ms "long" mark.
  EXPECT_EQ(idle.document["metrics"]["rcu.long_gps"].size(), 0u);
  // Loaded, the longest one was held by vCPU2, the one sharing its pCPU with the load...
  const auto& longest = loaded.document["metrics"]["rcu.longest_gp"];
  EXPECT_EQ(longest["held_by"], nlohmann::json::array({2})) << longest.dump();
  EXPECT_EQ(longest["last_cpu"], 2);
  // ... and its length is the host's: the fair policy gives the load and vCPU2 half of the
  // scaled scheduling latency each (sched_latency x (1 + log2 4 pCPUs) / 2). A grace period
  // starts at most one updater interval (200 us) after vCPU2 goes off its pCPU and ends a read
  // section and a cond_resched after it comes back.
  const auto s = tools::Scenario::load(test::scenario_path(kGp));
  const double slice_ns = sim::to_ns(s->host.scheduler.fair.sched_latency.value) * 3 / 2;
  const double longest_ns = longest["duration_ns"].get<double>();
  EXPECT_LE(longest_ns, slice_ns + 50e3);
  EXPECT_GE(longest_ns, slice_ns - 300e3);
  EXPECT_GT(at(loaded, "vcpu2.steal_ns"), 0);
  EXPECT_EQ(at(loaded, "vcpu1.steal_ns"), 0);
}

TEST(RcuGracePeriod, TraceMarksThePreemptedVcpuAsTheOneTheGracePeriodWaitedFor) {
  auto s = tools::Scenario::load(test::scenario_path(kGp));
  tools::RunOptions o;
  o.keep_events = true;
  const auto r = tools::run_scenario(*s, o);
  const sim::Trace t = tools::make_trace(*s, r, sim::TraceFilter{});
  std::map<int, int> waited_for;  // tid -> marks
  int gp_spans = 0;
  for (const auto& e : t.events()) {
    if (e.name == "GP waited for this vCPU") ++waited_for[e.tid];
    if (e.name == "RCU GP" && e.ph == 'b') ++gp_spans;
  }
  // The metric counts finished grace periods; one still open when the run ends is drawn too.
  EXPECT_GE(gp_spans, at(r, "rcu.grace_periods"));
  EXPECT_LE(gp_spans, at(r, "rcu.grace_periods") + 1);
  // Every long grace period's last quiescent state came from vCPU2.
  EXPECT_GE(waited_for[cpu::vcpu_tid(2)], at(r, "rcu.long_gps_held_by.vcpu2"));
  EXPECT_GT(waited_for[cpu::vcpu_tid(2)], 0);
}

TEST(RcuGracePeriod, IrqsOffSpinOnOwnGracePeriodIsReportedAsAHangAndAStall) {
  const auto r = test::run_file(kGp, {"guest.workloads[0].irqs=off", "host.load=[]"});
  ASSERT_GE(test::violations(r, "no_hang"), 1u);
  ASSERT_GE(test::violations(r, "rcu_stall"), 1u);
  bool hang_on_self = false, stall_names_spinner = false;
  for (const auto& v : r.document["violations"]) {
    if (v["check"] == "no_hang" && v["details"]["holder"] == 0 && v["cpus"] == nlohmann::json{0})
      hang_on_self = true;
    if (v["check"] == "rcu_stall") {
      const auto& w = v["details"]["waiting_for"];
      stall_names_spinner = w.size() == 1 && w[0]["vcpu"] == 0;
    }
  }
  EXPECT_TRUE(hang_on_self);
  EXPECT_TRUE(stall_names_spinner);
  // The same scenario with irqs on completes grace periods and reports nothing.
  const auto ok = test::run_file(kGp, {"host.load=[]"});
  EXPECT_EQ(test::violations(ok, "no_hang"), 0u);
  EXPECT_EQ(test::violations(ok, "rcu_stall"), 0u);
  EXPECT_GT(at(ok, "rcu.grace_periods"), 100);
}

TEST(Rcu, CallbacksRunOnlyAfterTheirGracePeriodAndEveryReaderIsWaitedFor) {
  const auto r = test::run_file(kGp, {"duration=\"50ms\""});
  EXPECT_EQ(test::violations(r, "rcu_reader_spans_gp"), 0u);
  // One callback per synchronize_rcu (wakeme_after_rcu), each invoked exactly once.
  EXPECT_EQ(at(r, "rcu.callbacks_invoked"), at(r, "rcu.sync_latency_ns.count"));
  EXPECT_GE(at(r, "rcu.grace_periods"), at(r, "rcu.sync_latency_ns.count") / 2);
  EXPECT_GT(at(r, "rcu.qs.cond_resched"), 0);
}

// Two SRCU domains: readers of domain 0 sleep 2 ms inside their sections; domain 1's readers
// do not. Only domain 0's synchronize_srcu waits for the sleepers.
TEST(Srcu, SleepingReadersLengthenOnlyTheirOwnDomain) {
  auto make = [](const char* sleep) {
    sim::Json j = {
        {"name", "srcu-domains"},
        {"duration", "100ms"},
        {"host", {{"pcpus", 4}}},
        {"vm", {{"vcpus", 4}, {"pinning", {{0}, {1}, {2}, {3}}}}},
        {"guest",
         {{"rcu", {{"srcu_interval", "100us"}}},
          {"workloads",
           {{{"kind", "srcu_reader"}, {"vcpus", {1}}, {"domain", 0}, {"sleep", sleep}},
            {{"kind", "srcu_reader"}, {"vcpus", {2}}, {"domain", 1}, {"section", "2us"}},
            {{"kind", "srcu_updater"}, {"vcpus", {0}}, {"domain", 0}, {"interval", "50us"}},
            {{"kind", "srcu_updater"}, {"vcpus", {3}}, {"domain", 1}, {"interval", "50us"}}}}}},
        {"checks", sim::Json::array()}};
    return tools::run_scenario(*tools::Scenario::from_json(j, "srcu-domains"));
  };
  const auto sleeping = make("2ms");
  const auto awake = make("0ns");
  const sim::Tick sleep_ns = 2'000'000;
  // Domain 0's grace period waits for the reader that began before the flip: most of a sleep.
  EXPECT_GE(at(sleeping, "srcu.domain0.sync_latency_ns.p50"), sleep_ns / 2);
  EXPECT_GE(at(sleeping, "srcu.domain0.sync_latency_ns.max"), sleep_ns);
  // Domain 1 does not notice: its grace periods are as short as with nobody sleeping.
  EXPECT_LT(at(sleeping, "srcu.domain1.sync_latency_ns.max"), sleep_ns / 10);
  EXPECT_LE(at(sleeping, "srcu.domain1.sync_latency_ns.p50"),
            2 * at(awake, "srcu.domain1.sync_latency_ns.p50"));
  EXPECT_LT(at(awake, "srcu.domain0.sync_latency_ns.max"), sleep_ns / 10);
}

// The allocator's check: a read of a freed object names the object and field, the accessing
// vCPU and task, and where and when it was freed.
TEST(GuestObjects, AccessAfterFreeIsReportedWithWhoAndWhere) {
  test::Rig rig(2, 2);
  cpu::Machine& m = rig.build();
  guest::GuestScheduler sched(m, 0);
  guest::GuestObjects objects(m, sched);
  objects.set_reporting(true);
  guest::GuestObjects::Handle h = 0;
  sched.spawn(0, "freer", [&](cpu::GuestCpu& cpu) {
    h = objects.allocate(cpu, "widget", {"a", "b"});
    objects.store(cpu, h, 1, 7);
    EXPECT_EQ(objects.load(cpu, h, 1), 7u);
    objects.free(cpu, h, "widget_release");
  });
  sched.spawn(1, "user", [&](cpu::GuestCpu& cpu) {
    cpu.compute(10 * sim::kMicrosecond);
    EXPECT_EQ(objects.load(cpu, h, 1), 7u);  // stale memory is still readable
  });
  rig.run(100 * sim::kMicrosecond);
  const auto& list = m.violations().list();
  ASSERT_EQ(list.size(), 1u);
  const sim::Violation& v = list[0];
  EXPECT_EQ(v.check, "use_after_free");
  EXPECT_EQ(v.details["object"], "widget#1");
  EXPECT_EQ(v.details["field"], "b");
  EXPECT_EQ(v.details["access"], "read");
  EXPECT_EQ(v.details["vcpu"], 1);
  EXPECT_EQ(v.details["task"], "user");
  EXPECT_EQ(v.details["freed_by_vcpu"], 0);
  EXPECT_EQ(v.details["freed_by_task"], "freer");
  EXPECT_EQ(v.details["freed_in"], "widget_release");
  EXPECT_LT(v.details["freed_at_ns"].get<double>(), sim::to_ns(v.time));
}

// Issue 25's reproducer: without host load, every vCPU reports its quiescent state within a
// microsecond of each grace period's start, so no grace period may stall. Before the fix the
// grace-period kthread's wake-up landed while its vCPU was still switching away from it and was
// lost (tests/guest_tasks_test.cpp: GuestTasks.AWakeUpWhileTheSleeperIsStillSwitchingAwayIsNotLost):
// grace period 935 never ended, at 199.9 ms.
TEST(RcuGracePeriod, UnloadedGracePeriodsNeverStall) {
  const auto r =
      test::run_file(kGp, {"duration=300ms", "host.load=[]", "guest.rcu.stall_timeout=10ms"});
  EXPECT_EQ(test::violations(r, "rcu_stall"), 0u) << r.document["violations"].dump();
  // One grace period per updater interval (200 us), each ~10 us: ~1,500 in 300 ms.
  EXPECT_GE(at(r, "rcu.grace_periods"), 1000);
}

// A grid over where the grace-period kthread runs, how often readers and the updater run, host
// load on vCPU2 or none, and the seed (72 runs): no stall ever waits for nobody (a model error),
// and without load no grace period stalls at all; grace periods keep ending to the run's end,
// and the trace draws as many as the metric counts.
TEST(RcuGracePeriod, EveryGracePeriodEndsOverAGrid) {
  int runs = 0;
  for (int gp_cpu = 0; gp_cpu < 4; ++gp_cpu)
    for (const char* reader_interval : {"1us", "3us", "10us"})
      for (const bool loaded : {false, true})
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
          std::vector<std::string> sets = {
              "duration=100ms", "guest.rcu.stall_timeout=10ms",
              "guest.rcu.gp_cpu=" + std::to_string(gp_cpu),
              std::string("guest.workloads[1].interval=") + reader_interval,
              std::string("guest.workloads[0].interval=") + (seed == 2 ? "100us" : "200us")};
          if (!loaded) sets.push_back("host.load=[]");
          if (loaded)
            sets.push_back("host.load=[{\"kind\":\"duty\",\"cpus\":[2],\"busy\":\"5ms\","
                           "\"idle\":\"5ms\"}]");
          auto s = tools::Scenario::load(test::scenario_path(kGp), sets, seed);
          tools::RunOptions o;
          o.keep_events = true;
          const auto r = tools::run_scenario(*s, o);
          ++runs;
          const std::string where = "gp_cpu " + std::to_string(gp_cpu) + ", readers every " +
                                    reader_interval + (loaded ? ", loaded" : ", unloaded") +
                                    ", seed " + std::to_string(seed);
          for (const auto& v : r.document["violations"]) {
            if (v["check"] != "rcu_stall") continue;
            EXPECT_FALSE(v["details"].contains("model_error")) << where << ": " << v["message"];
            EXPECT_FALSE(v["details"]["waiting_for"].empty()) << where;
          }
          if (!loaded) {
            EXPECT_EQ(test::violations(r, "rcu_stall"), 0u) << where;
          }
          // Grace periods end until the end: at least one per 2 ms of the run (an updater
          // interval of 200 us asks for one every 200 us; load stretches some to its 5 ms).
          EXPECT_GE(at(r, "rcu.grace_periods"), 50) << where;
          // The metric counts what the trace draws: one span per grace period (one still open
          // at the end is drawn too).
          const sim::Trace t = tools::make_trace(*s, r, sim::TraceFilter{});
          std::int64_t gp_spans = 0;
          for (const auto& e : t.events())
            if (e.name == "RCU GP" && e.ph == 'b') ++gp_spans;
          EXPECT_GE(gp_spans, at(r, "rcu.grace_periods")) << where;
          EXPECT_LE(gp_spans, at(r, "rcu.grace_periods") + 1) << where;
        }
  EXPECT_EQ(runs, 72);
}
