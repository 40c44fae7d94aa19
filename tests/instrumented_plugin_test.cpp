// Instrumented mode (docs/c-guest-code.md "Instrumented mode" and "Data races"): a plugin built
// with `vcpusim cc --instrument` has its plain and compiler-atomic accesses made guest accesses
// by vcpusim's own ThreadSanitizer entry points, and the data_race check reports plain accesses
// that happens-before leaves unordered, at their file:line. The detector's definition is checked
// on its own first (cpu/vm/race_detector.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cpu/vm/memory.hpp"
#include "cpu/vm/race_detector.hpp"
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
TEST(InstrumentedPlugin, PlainSpinWithoutCpuRelaxCostsNoKernelEventPerIteration) {
  test::TempDir tmp;
  const std::string so = build(tmp, kSource + "/tests/plugins/plain_spin.c", "plain_spin.so", {});
  for (const char* vcpus : {"2"}) {
    plugin::PluginSet plugins;
    plugins.load(so);
    auto s = tools::Scenario::load(
        kLockScenario,
        {"guest.locks.kind=c:plainspin", "guest.locks.count=1", "host.load=[]",
         std::string("vm.vcpus=") + vcpus, "duration=10ms",
         std::string("guest.workloads[0].vcpus=\"0-") + (vcpus[0] == '2' ? "1" : "5") + "\"",
         "guest.workloads[0].hold=1ms", "guest.workloads[0].think=1us", "vm.ple_gap=0",
         "expect={}"},
        std::nullopt, plugins.registries());
    const auto r = tools::run_scenario(*s);
    const double steps = r.document["metrics"]["sim.steps"].get<double>();
    ASSERT_GT(r.document["metrics"]["locks.spin_ns"].get<double>(), 5e6) << vcpus;  // it spun
    EXPECT_GT(steps, 5e6) << vcpus;  // about one load per simulated ns of spinning
    EXPECT_LT(static_cast<double>(r.kernel_events), steps / 1000) << vcpus;
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
  const Json fixed = run_example(build(tmp, source, "fixed/racy_counter.so", {"-DFIXED"}),
                                 {"expect={}"});
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
