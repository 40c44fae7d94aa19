// Instrumented mode (docs/c-guest-code.md "Instrumented mode" and "Data races"): a plugin built
// with `vcpusim cc --instrument` has its plain and compiler-atomic accesses made guest accesses
// by vcpusim's own ThreadSanitizer entry points, and the data_race check reports plain accesses
// that happens-before leaves unordered, at their file:line. The detector's definition is checked
// on its own first (cpu/vm/ccode/race_detector.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cpu/vm/memory.hpp"
#include "cpu/vm/ccode/race_detector.hpp"
#include "plugin/plugin_set.hpp"
#include "tests/cli_util.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim {
namespace {

namespace fs = std::filesystem;
using sim::Json;

const std::string kSource = VCPUSIM_SOURCE_DIR;
const std::string kLockScenario = kSource + "/scenarios/lock-holder-preemption.json";

// --- The definition, on the detector alone: setup, per-vCPU accesses, expected verdict. ---

struct Detector {
  sim::Violations violations;
  cpu::Word line{0, "data+0x0", 0, 0};
  cpu::RaceDetector races{3, violations, nullptr};
  alignas(64) unsigned char bytes[64] = {};
  const void* at(int offset) const { return bytes + offset; }
  std::size_t reported() const { return violations.count(cpu::RaceDetector::kCheck); }
};

TEST(RaceDetector, UnorderedPlainAccessesOfTwoVcpusRace) {
  Detector d;
  d.races.plain(0, 10, d.line, d.at(0), 4, true, nullptr);
  d.races.plain(1, 20, d.line, d.at(0), 4, false, nullptr);
  EXPECT_EQ(d.reported(), 1u);
}

TEST(RaceDetector, AReleaseAcquirePairOrdersThem) {
  Detector d;
  d.races.plain(0, 10, d.line, d.at(0), 4, true, nullptr);
  d.races.marked(0, 11, d.line, d.at(8), 4, false, true);  // WRITE_ONCE(flag, 1)
  d.races.marked(1, 12, d.line, d.at(8), 4, true, false);  // READ_ONCE(flag)
  d.races.plain(1, 20, d.line, d.at(0), 4, true, nullptr);
  EXPECT_EQ(d.reported(), 0u);
  // A third vCPU that synchronised with nobody still races with both.
  d.races.plain(2, 30, d.line, d.at(0), 4, false, nullptr);
  EXPECT_EQ(d.reported(), 1u);  // one report per pair of code sites (both here: none)
}

TEST(RaceDetector, SynchronisationOnAnotherWordDoesNotOrder) {
  Detector d;
  d.races.plain(0, 10, d.line, d.at(0), 4, true, nullptr);
  d.races.marked(0, 11, d.line, d.at(8), 4, false, true);
  d.races.marked(1, 12, d.line, d.at(16), 4, true, false);  // another flag
  d.races.plain(1, 20, d.line, d.at(0), 4, false, nullptr);
  EXPECT_EQ(d.reported(), 1u);
}

TEST(RaceDetector, ReadModifyWritesChainTheirReleases) {
  Detector d;
  d.races.plain(0, 10, d.line, d.at(0), 4, true, nullptr);
  d.races.marked(0, 11, d.line, d.at(8), 4, true, true);   // atomic_inc by vCPU 0
  d.races.marked(1, 12, d.line, d.at(8), 4, true, true);   // then by vCPU 1
  d.races.marked(2, 13, d.line, d.at(8), 4, true, false);  // vCPU 2 reads the count
  d.races.plain(2, 20, d.line, d.at(0), 4, false, nullptr);
  EXPECT_EQ(d.reported(), 0u);
}

TEST(RaceDetector, MarkedAccessesNeverRaceWithEachOtherButDoWithPlainOnes) {
  Detector d;
  d.races.marked(0, 10, d.line, d.at(0), 4, false, true);
  d.races.marked(1, 11, d.line, d.at(0), 4, false, true);
  EXPECT_EQ(d.reported(), 0u);
  d.races.plain(2, 12, d.line, d.at(2), 1, false, nullptr);  // overlaps byte 2 of the word
  EXPECT_EQ(d.reported(), 1u);
}

TEST(RaceDetector, DisjointBytesAndReadsDoNotRace) {
  Detector d;
  d.races.plain(0, 10, d.line, d.at(0), 2, true, nullptr);
  d.races.plain(1, 11, d.line, d.at(2), 2, true, nullptr);  // the other half-word
  d.races.plain(0, 12, d.line, d.at(8), 4, false, nullptr);
  d.races.plain(1, 13, d.line, d.at(8), 4, false, nullptr);  // two reads
  EXPECT_EQ(d.reported(), 0u);
}

TEST(RaceDetector, APvKickOrdersTheKickersPastBeforeTheWokenVcpu) {
  Detector d;
  d.races.plain(0, 10, d.line, d.at(0), 4, true, nullptr);
  d.races.kick(0, 1);
  d.races.woken(1);
  d.races.plain(1, 20, d.line, d.at(0), 4, true, nullptr);
  EXPECT_EQ(d.reported(), 0u);
}

// --- Plugins built in instrumented mode. ---

std::string build(const test::TempDir& tmp, const std::string& source, const std::string& name,
                  std::vector<std::string> flags) {
  const std::string so = (tmp.path() / name).string();
  std::vector<std::string> args = {"cc", "--instrument", source, "-o", so};
  args.insert(args.end(), flags.begin(), flags.end());
  const test::CliResult cc = test::run_cli(args);
  EXPECT_EQ(cc.status, 0) << cc.err;
  return so;
}

Json run(const std::string& so, std::vector<std::string> sets) {
  plugin::PluginSet plugins;
  plugins.load(so);
  auto s = tools::Scenario::load(kLockScenario, sets, std::nullopt, plugins.registries());
  return tools::run_scenario(*s).document;
}

// Without the fingerprint and the busiest lines' names and numbers, which follow the layout of
// the plugin's writable data.
Json comparable(Json doc) {
  doc.erase("fingerprint");
  for (auto& line : doc["coherence"]["top_lines"]) {
    line.erase("name");
    line.erase("line");
  }
  return doc;
}

// The line of `marker` in `file`, 1-based.
int line_of(const std::string& file, const std::string& marker) {
  std::ifstream in(file);
  std::string text;
  for (int n = 1; std::getline(in, text); ++n)
    if (text.find(marker) != std::string::npos) return n;
  return 0;
}

// One lock: the plugin's plain globals belong to the one lock that protects them.
const std::vector<std::string> kCounted = {
    "guest.locks.kind=c:counted", "guest.locks.count=1", "duration=3ms", "expect={}",
    "checks=[\"data_race\", \"mutual_exclusion\", \"guest_assert\"]"};

TEST(InstrumentedPlugin, ProtectedPlainDataIsCleanAndIsReallyAccessed) {
  test::TempDir tmp;
  const std::string so =
      build(tmp, kSource + "/tests/plugins/counted_lock.c", "counted_lock.so", {});
  const Json r = run(so, kCounted);
  ASSERT_GT(r["metrics"]["locks.acquisitions"].get<double>(), 100);  // the lock works
  EXPECT_EQ(r["violation_counts"]["mutual_exclusion"], 0);
  EXPECT_EQ(r["violation_counts"]["guest_assert"], 0) << r["violations"];
  EXPECT_EQ(r["violation_counts"]["data_race"], 0) << r["violations"];
  // The premise: the plain globals were guest accesses, moving their line between pCPUs.
  EXPECT_NE(r["coherence"].dump().find("counted_lock.so.data0+0x"), std::string::npos)
      << r["coherence"].dump();
}

TEST(InstrumentedPlugin, PlainIncrementOutsideTheLockIsADataRaceAtItsLine) {
  test::TempDir tmp;
  const std::string source = kSource + "/tests/plugins/counted_lock.c";
  const std::string so = build(tmp, source, "counted_lock.so", {"-DRACY"});
  const Json r = run(so, kCounted);
  EXPECT_EQ(r["violation_counts"]["mutual_exclusion"], 0);
  ASSERT_GT(r["violation_counts"]["data_race"].get<int>(), 0);
  const int line = line_of(source, "racy: outside the lock");
  ASSERT_GT(line, 0);
  const std::string message = r["violations"][0]["message"];
  EXPECT_NE(message.find("data race on counted_lock.so.data0+0x"), std::string::npos) << message;
  EXPECT_NE(message.find("plain write on vCPU "), std::string::npos) << message;
  EXPECT_NE(message.find("at counted_lock.c:" + std::to_string(line)), std::string::npos)
      << message;
}

// `while (*w);` on a volatile word, no cpu_relax: each iteration is a guest load of 1 ns, but
// a load completes inline (no kernel event) whenever no other event falls due before it ends,
// so one waiter spinning through 1 ms critical sections costs no event per iteration. (Two
// plain spinners at once do: each one's next load is due within the other's, 31 M events for
// 31 M loads with 6 vCPUs; docs/c-guest-code.md "Instrumented mode".)
// Plain loops (cpu/vm/ccode/plain_loop.hpp). Setup: tests/plugins/plain_loops.c on six vCPUs with a
// pCPU each, instrumented. Bodies: vCPU 0 computes for 1 ms and sets a flag with a plain store;
// vCPUs 1-5 spin on it with a plain volatile load and no cpu_relax. Expected: each waiter is
// found at a fixed point and waits for the store as a spin: a handful of kernel events where
// pass by pass (the same loop counting its passes on the stack, whose state moves) costs one
// event per load. Both see the flag within a microsecond of the store.
double fixed_point_waits(const Json& doc) {
  double n = 0;
  for (const auto& [name, value] : doc["metrics"].items())
    if (name.find(".fixed_point_waits") != std::string::npos) n += value.get<double>();
  return n;
}

struct FlagWait {
  Json doc;
  std::uint64_t kernel_events = 0;
  double fixed_point_waits = 0;
};

FlagWait run_flag_wait(const std::string& so, bool count_passes) {
  plugin::PluginSet plugins;
  plugins.load(so);
  auto s = tools::Scenario::load(
      kSource + "/examples/racy_counter.json",
      {"guest.workloads=[{\"kind\": \"c:flag_wait\", \"vcpus\": \"0-5\", \"delay\": \"1ms\", "
       "\"count_passes\": " +
           std::string(count_passes ? "1" : "0") + "}]",
       "vm.vcpus=6", "host.pcpus=6", "duration=2ms", "checks=[]", "expect={}"},
      std::nullopt, plugins.registries());
  const auto r = tools::run_scenario(*s);
  return FlagWait{r.document, r.kernel_events, fixed_point_waits(r.document)};
}

TEST(InstrumentedPlugin, PlainSpinWithoutCpuRelaxWaitsForTheWriteInsteadOfAnEventPerPass) {
  test::TempDir tmp;
  const std::string so = build(tmp, kSource + "/tests/plugins/plain_loops.c", "loops.so", {});
  const int waiters = 5;
  const double delay_ns = 1e6;

  const FlagWait counted = run_flag_wait(so, true);
  EXPECT_EQ(counted.fixed_point_waits, 0);  // its state moves: never taken for a fixed point
  const double passes = counted.doc["metrics"]["plain_loops.passes"].get<double>();
  EXPECT_GT(passes, waiters * delay_ns / 10);  // at least a pass per 10 ns of waiting
  EXPECT_GT(static_cast<double>(counted.kernel_events), passes);  // an event per pass, or more

  const FlagWait parked = run_flag_wait(so, false);
  EXPECT_GE(parked.fixed_point_waits, waiters);  // the premise: every waiter was found
  EXPECT_LT(static_cast<double>(parked.kernel_events), waiters * delay_ns / 1000)
      << "fewer than one event per microsecond of waiting";
  // Both see the store within a pass: a load (costs.load, 1 ns) plus the line's transfer
  // (costs.line_transfer, 15-30 ns), or a spinner's re-check (costs.spin_recheck, 5 ns) plus the
  // transfer. 50 ns per waiter bounds either.
  const double seen_counted = counted.doc["metrics"]["plain_loops.seen_ns"].get<double>();
  const double seen_parked = parked.doc["metrics"]["plain_loops.seen_ns"].get<double>();
  EXPECT_GE(seen_parked, waiters * delay_ns);
  EXPECT_NEAR(seen_parked, seen_counted, waiters * 50.0);
}

// A loop bounded by a count reads the same unchanging line every pass, and its state still
// moves (the count, in a register or on the stack): it runs every pass, none is waited out.
TEST(InstrumentedPlugin, ACountedLoopOfUnchangingReadsRunsEveryPass) {
  test::TempDir tmp;
  const std::string so = build(tmp, kSource + "/tests/plugins/plain_loops.c", "loops.so", {});
  const int reads = 200000, vcpus = 2;
  double time_in_register = 0;
  for (const char* on_stack : {"0", "1"}) {
    plugin::PluginSet plugins;
    plugins.load(so);
    auto s = tools::Scenario::load(
        kSource + "/examples/racy_counter.json",
        {std::string("guest.workloads=[{\"kind\": \"c:counted_reads\", \"vcpus\": \"0-1\", "
                     "\"reads\": ") +
             std::to_string(reads) + ", \"on_stack\": " + on_stack + "}]",
         "vm.vcpus=2", "host.pcpus=2", "duration=10ms", "checks=[]", "expect={}"},
        std::nullopt, plugins.registries());
    const Json doc = tools::run_scenario(*s).document;
    EXPECT_EQ(doc["metrics"]["plain_loops.sum"].get<double>(), reads * vcpus) << on_stack;
    EXPECT_EQ(fixed_point_waits(doc), 0) << on_stack;
    const double ns = doc["metrics"]["plain_loops.read_ns"].get<double>();
    // Every read was paid: the same time whether the count lives in a register or on the stack
    // (whose accesses are local and cost nothing).
    if (time_in_register == 0)
      time_in_register = ns;
    else
      EXPECT_EQ(ns, time_in_register);
    EXPECT_GE(ns, static_cast<double>(reads) * vcpus * 0.5) << "at least half a ns per read";
  }
}

// The lock of tests/plugins/plain_spin.c spins on a plain volatile load with no cpu_relax. Its
// waiters are found at a fixed point: six vCPUs contending cost no event per pass, and mutual
// exclusion still holds.
TEST(InstrumentedPlugin, PlainSpinLockWaitersCostNoKernelEventPerPass) {
  test::TempDir tmp;
  const std::string so = build(tmp, kSource + "/tests/plugins/plain_spin.c", "plain_spin.so", {});
  for (const char* vcpus : {"2", "6"}) {
    plugin::PluginSet plugins;
    plugins.load(so);
    auto s = tools::Scenario::load(
        kLockScenario,
        {"guest.locks.kind=c:plainspin", "guest.locks.count=1", "host.load=[]",
         std::string("vm.vcpus=") + vcpus, "duration=10ms",
         std::string("guest.workloads[0].vcpus=\"0-") + (vcpus[0] == '2' ? "1" : "5") + "\"",
         "guest.workloads[0].hold=1ms", "guest.workloads[0].think=1us", "vm.ple_gap=0",
         "checks=[\"mutual_exclusion\"]", "expect={}"},
        std::nullopt, plugins.registries());
    const auto r = tools::run_scenario(*s);
    const Json& m = r.document["metrics"];
    const double spin_ns = m["locks.spin_ns"].get<double>();
    ASSERT_GT(spin_ns, 5e6) << vcpus;  // it spun
    EXPECT_GT(fixed_point_waits(r.document), 0) << vcpus;
    EXPECT_LT(static_cast<double>(r.kernel_events), spin_ns / 1000) << vcpus;
    EXPECT_EQ(r.document["violation_counts"]["mutual_exclusion"], 0) << vcpus;
    EXPECT_GT(m["locks.acquisitions"].get<double>(), 5) << vcpus;
  }
}

// examples/racy_counter.c: four vCPUs bump one plain counter. Instrumented, the race is reported
// at the increment's line and increments are really lost; the atomic_inc build (-DFIXED) is
// clean and loses none.
TEST(InstrumentedPlugin, RacyCounterExampleRacesAtItsIncrementAndTheFixIsClean) {
  test::TempDir tmp;
  const std::string source = kSource + "/examples/racy_counter.c";
  const std::string scenario = kSource + "/examples/racy_counter.json";
  auto run_example = [&](const std::string& so, std::vector<std::string> sets) {
    plugin::PluginSet plugins;
    plugins.load(so);
    auto s = tools::Scenario::load(scenario, sets, std::nullopt, plugins.registries());
    return tools::run_scenario(*s).document;
  };
  const Json racy = run_example(build(tmp, source, "racy_counter.so", {}), {});
  EXPECT_TRUE(racy["expect_met"].get<bool>());
  ASSERT_GT(racy["violation_counts"]["data_race"].get<int>(), 0);
  const int line = line_of(source, "BUMP();");
  ASSERT_GT(line, 0);
  const std::string message = racy["violations"][0]["message"];
  EXPECT_NE(message.find("at racy_counter.c:" + std::to_string(line)), std::string::npos)
      << message;
  EXPECT_GT(racy["metrics"]["racy_counter.lost"].get<double>(), 0);

  fs::create_directory(tmp.path() / "fixed");
  const Json fixed =
      run_example(build(tmp, source, "fixed/racy_counter.so", {"-DFIXED"}), {"expect={}"});
  EXPECT_EQ(fixed["violation_counts"]["data_race"], 0) << fixed["violations"];
  EXPECT_EQ(fixed["metrics"]["racy_counter.lost"].get<double>(), 0);
}

// Instrumentation adds hooks on the fiber's own stack and on the plugin's pointer to the API
// table, which stay local: a lock whose shared accesses all go through the API
// (tests/plugins/global_lock.c) gives the same run either way, but for where its globals are:
// the instrumented build's writable data starts with a longer GOT (the __tsan_* imports), so
// they sit one line later (the fingerprint and the lines' names differ, nothing else). The C
// ticket lock would differ more: its plain `lock->owner` store and load in the lock object are
// guest memory, two more accesses per acquisition in instrumented mode.
TEST(InstrumentedPlugin, InstrumentingCodeThatUsesOnlyTheApiChangesNothing) {
  test::TempDir tmp;
  const std::string source = kSource + "/tests/plugins/global_lock.c";
  fs::create_directory(tmp.path() / "plain");
  const std::string plain = (tmp.path() / "plain" / "global_lock.so").string();
  const test::CliResult cc = test::run_cli({"cc", source, "-o", plain});
  ASSERT_EQ(cc.status, 0) << cc.err;
  const std::string instrumented = build(tmp, source, "global_lock.so", {});
  const std::vector<std::string> sets = {"guest.locks.kind=c:global", "duration=3ms", "expect={}"};
  const Json a = run(instrumented, sets);
  ASSERT_GT(a["metrics"]["locks.acquisitions"].get<double>(), 100);
  EXPECT_EQ(comparable(a).dump(1), comparable(run(plain, sets)).dump(1));
}

}  // namespace
}  // namespace vcpusim
