// vcpusim shrink (tools/explore/shrink.hpp): the minimal replay still fails with the same signature,
// replays byte for byte and is no larger than its input; bad input gets one clear message.
#include "tools/explore/shrink.hpp"

#include <gtest/gtest.h>

#include "shrink_util.hpp"
#include "tools/explore/shrink_explain.hpp"

namespace vcpusim::test {
namespace {

std::size_t items(const tools::ReplayFile& r) {
  return r.schedule.decisions.size() + r.schedule.injections.size();
}

// The case: a 1 ns injected preemption of vCPU0 on pCPU0, after which a queued load task
// takes its 4.065 ms slice. Setup: the trace's lanes as vcpusim draws them. Expected: the cause
// chain in order with each holder's time, which sum to the preemption; not "by an injected host
// preemption" alone (what ran at its first instant).
TEST(ShrinkExplain, PreemptionNamesEveryHolderInOrderWithItsTime) {
  using sim::kMicrosecond;
  const sim::Tick t0 = 100 * kMicrosecond, t1 = t0 + 1 + 4065 * kMicrosecond;
  tools::TraceView v;
  tools::ViewLane p0, p1, v0;
  p0.name = "pCPU0", p0.pcpu = true;
  p0.slices = {{0, t0, 0, "vCPU0", "sched"},
               {t0, t0 + 1, 0, "host preemption (explore)", "sched"},
               {t0 + 1, t1, 0, "load0", "sched"},
               {t1, t1 + kMicrosecond, 0, "vCPU0", "sched"}};
  p1.name = "pCPU1", p1.pcpu = true;
  p1.slices = {{0, t1, 0, "vCPU1", "sched"}};
  v0.name = "vCPU0";
  v0.slices = {{t0, t1, 0, "preempted", "sched"}};
  v.lanes = {p0, p1, v0};
  EXPECT_EQ(tools::preemption_holders(v, "vCPU0", t0, t1, {}),
            "an injected host preemption (" + tools::readable_time(1) + "), then host task load0 (" +
                tools::readable_time(4065 * kMicrosecond) + ") on pCPU0");
  // Held by another vCPU and by host noise: each named as such.
  p0.slices[2] = {t0 + 1, t0 + 2 * kMicrosecond, 0, "host irq", "sched"};
  p0.slices.insert(p0.slices.begin() + 3, {t0 + 2 * kMicrosecond, t1, 0, "vCPU3", "sched"});
  v.lanes = {p0, p1, v0};
  EXPECT_EQ(tools::preemption_holders(v, "vCPU0", t0, t1, {}),
            "an injected host preemption (" + tools::readable_time(1) + "), then host irq (" +
                tools::readable_time(2 * kMicrosecond - 1) + "), then vCPU3 (" +
                tools::readable_time(t1 - t0 - 2 * kMicrosecond) + ") on pCPU0");
}

// Acceptance: explore finds the backward vDSO step; shrink gives at most 2 host preemptions, the
// same failure, a byte-identical replay, and the nearest passing run beside it.
TEST(Shrink, VdsoUnplacedShrinksToAtMostTwoPreemptionsAndReplaysByteForByte) {
  const tools::ReplayFile found = first_failure("explore/vdso-unplaced.json", 40);
  ASSERT_FALSE(found.failure.signature.empty());
  TempDir dir;
  const fs::path in = dir.path() / "found.json", min = dir.path() / "min.json";
  write_replay(in, found);
  const CliResult r = run_cli({"shrink", in.string(), "-o", min.string(), "--max-runs", "400"});
  ASSERT_EQ(r.status, 0) << r.err;
  const tools::ReplayFile m = tools::ReplayFile::load(min.string());
  EXPECT_EQ(m.failure.signature, found.failure.signature);
  EXPECT_EQ(m.origin, "shrink of " + in.string());
  EXPECT_LE(items(m), items(found));
  EXPECT_LE(m.schedule.injections.size(), found.schedule.injections.size());
  const tools::ShrinkSize before = tools::ShrinkSize::of(found), after = tools::ShrinkSize::of(m);
  EXPECT_LE(after.duration, before.duration);
  EXPECT_LE(after.vcpus, before.vcpus);
  EXPECT_LE(after.load_tasks, before.load_tasks);
  const int preemptions = preemptions_before_failure(m);
  EXPECT_GE(preemptions, 1);
  EXPECT_LE(preemptions, 2);
  EXPECT_LE(preemptions_before_failure(m), preemptions_before_failure(found));
  // The explanation names the preemption, the failure and the NTP change it raced.
  EXPECT_NE(r.out.find("what happened:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vCPU0 preempted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(") on pCPU"), std::string::npos) << "each holder with its time: " << r.out;
  EXPECT_NE(r.out.find("then monotonic_time failed at"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mult fell from"), std::string::npos) << r.out;

  // run --replay reproduces it byte for byte: the same result JSON twice, the recorded
  // fingerprint (else exit 3), and the failure (exit 1: the run fails).
  const fs::path a = dir.path() / "a.json", b = dir.path() / "b.json";
  EXPECT_EQ(run_cli({"run", "--replay", min.string(), "-q", "--json", a.string()}).status, 1);
  EXPECT_EQ(run_cli({"run", "--replay", min.string(), "-q", "--json", b.string()}).status, 1);
  const std::string ja = read_file(a);
  EXPECT_FALSE(ja.empty());
  EXPECT_EQ(ja, read_file(b));
  const auto doc = sim::Json::parse(ja);
  EXPECT_EQ(doc["fingerprint"], m.fingerprint);
  EXPECT_EQ(
      tools::failure_signature(doc["violations"][0]["check"], doc["violations"][0]["message"]),
      m.failure.signature);

  // Beside it, the nearest passing run: the same scenario, one schedule item fewer, no failure.
  const fs::path passing = dir.path() / "min.passing.json";
  ASSERT_TRUE(fs::exists(passing)) << r.out;
  const tools::ReplayFile p = tools::ReplayFile::load(passing.string());
  EXPECT_EQ(p.scenario, m.scenario);
  EXPECT_EQ(items(p) + 1, items(m));
  EXPECT_TRUE(p.failure.signature.empty()) << p.failure.signature;
  EXPECT_EQ(run_cli({"run", "--replay", passing.string(), "-q"}).status, 0);
}

// The spinlock issue's pv hash race: shrink keeps its signature (a failed lookup or a lost
// wake-up, whichever explore found first).
TEST(Shrink, PvHashRaceKeepsItsSignature) {
  const tools::ReplayFile found = first_failure("explore/pv-hash-race-unplaced.json", 64);
  ASSERT_FALSE(found.failure.signature.empty());
  tools::ShrinkOptions o;
  o.max_runs = 300;
  const tools::ShrinkResult r = tools::shrink(found, "pv-hash-race", o);
  EXPECT_EQ(r.min.failure.signature, found.failure.signature);
  EXPECT_LE(items(r.min), items(found));
  EXPECT_LE(r.after.duration, r.before.duration);
  const tools::Replayed again = tools::run_replay(r.min, "min");
  EXPECT_EQ(again.result.document["fingerprint"], r.min.fingerprint);
  EXPECT_EQ(again.result.failure.signature, found.failure.signature);
  ASSERT_TRUE(r.passing.has_value());
  EXPECT_TRUE(r.passing->failure.signature.empty());
  // Deterministic: the same input shrinks to the same files.
  const tools::ShrinkResult again_shrunk = tools::shrink(found, "pv-hash-race", o);
  EXPECT_EQ(again_shrunk.min.to_json(), r.min.to_json());
  EXPECT_EQ(again_shrunk.passing->to_json(), r.passing->to_json());
  EXPECT_EQ(again_shrunk.runs, r.runs);
}

// Bad input: one clear message on stderr, exit 2, no output file.
TEST(Shrink, BadInputExitsTwoWithOneMessage) {
  TempDir dir;
  const fs::path min = dir.path() / "min.json";
  auto expect_bad = [&](const std::vector<std::string>& args, const std::string& says) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(min));
  };
  // A scenario is not a replay file.
  expect_bad({"shrink", scenario_path("explore/vdso-unplaced.json"), "-o", min.string()},
             "not a replay file");
  // A replay whose run does not fail as recorded: the scenario's own run with a made-up failure.
  tools::ReplayFile r;
  auto s = tools::Scenario::load(scenario_path("explore/pv-hash-race-unplaced.json"));
  r.scenario = s->resolved();
  r.failure = {tools::failure_signature("hash_lookup", "made up"), "hash_lookup", 0, "made up"};
  const fs::path fake = dir.path() / "fake.json";
  write_replay(fake, r);
  expect_bad({"shrink", fake.string(), "-o", min.string()}, "does not reproduce its failure");
  // -o naming the input.
  expect_bad({"shrink", fake.string(), "-o", fake.string()}, "names an input");
  expect_bad({"shrink", fake.string(), "-o", min.string(), "--max-runs", "0"}, "--max-runs");
}

}  // namespace
}  // namespace vcpusim::test
