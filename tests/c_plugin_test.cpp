// C guest code (docs/c-guest-code.md, plugin/): the C port of the built-in ticket lock
// (examples/ticket_lock.c) gives the built-in's results, its spin loop is event-driven, the
// result does not depend on where the plugin and its objects were loaded, a C assertion becomes a
// violation, a bad access ends the run with a message, and each bad plugin gets its message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plugin/plugin_set.hpp"
#include "sim/error.hpp"
#include "tests/cli_util.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim {
namespace {

namespace fs = std::filesystem;
using sim::Json;

const std::string kPlugins = VCPUSIM_PLUGIN_DIR;
const std::string kTicketSo = kPlugins + "/ticket_lock.so";
const std::string kLockScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/lock-holder-preemption.json";

tools::RunResult run(const plugin::PluginSet& plugins, const std::string& file,
                     const std::vector<std::string>& sets) {
  auto s = tools::Scenario::load(file, sets, std::nullopt, plugins.registries());
  return tools::run_scenario(*s);
}

// The result without what legitimately differs between two lock kinds doing the same guest
// operations: the fingerprint (events name words by id and the kind by name), the kind's name
// (the scenario echo, metric locks.kind) and the busiest lines' names and numbers: the C lock's
// line comes one later, after the line of the plugin's globals (its writable data, registered
// as guest memory before the first lock object).
Json comparable(Json doc) {
  doc.erase("fingerprint");
  doc.erase("scenario");
  doc["metrics"].erase("locks.kind");
  for (auto& line : doc["coherence"]["top_lines"]) {
    line.erase("name");
    line.erase("line");
  }
  return doc;
}

TEST(CPlugin, CTicketLockGivesTheBuiltinTicketLocksResults) {
  plugin::PluginSet plugins;
  plugins.load(kTicketSo);
  const auto builtin = run(plugins, kLockScenario, {"guest.locks.kind=ticket"});
  const auto c = run(plugins, kLockScenario, {"guest.locks.kind=c:ticket"});
  ASSERT_GT(builtin.document["metrics"]["locks.acquisitions"].get<double>(), 1000);
  ASSERT_GT(builtin.document["metrics"]["locks.holder_preemptions"].get<double>(), 0);
  EXPECT_EQ(comparable(c.document).dump(1), comparable(builtin.document).dump(1));
  EXPECT_EQ(c.kernel_events, builtin.kernel_events);
  EXPECT_EQ(c.guest_accesses, builtin.guest_accesses);
}

// A waiter spinning through a 1 ms critical section would make ~60000 loads at one per
// costs.pause_iteration if each cpu_relax() polled; it makes one per write to the lock's line.
TEST(CPlugin, CSpinLoopCostsNoEventPerIterationWhileNothingChanges) {
  plugin::PluginSet plugins;
  plugins.load(kTicketSo);
  const auto r = run(plugins, kLockScenario,
                     {"guest.locks.kind=c:ticket", "guest.locks.count=1", "host.load=[]",
                      "vm.vcpus=2", "duration=20ms", "guest.workloads[0].vcpus=[0,1]",
                      "guest.workloads[0].hold=1ms", "guest.workloads[0].think=1us",
                      "vm.ple_gap=0"});
  const Json& m = r.document["metrics"];
  ASSERT_GT(m["locks.spin_ns"].get<double>(), 5e6);  // a waiter spun for most of the run
  std::uint64_t accesses = 0;
  for (auto a : r.guest_accesses) accesses += a;
  EXPECT_LT(accesses, 1000u);
  EXPECT_LT(r.kernel_events, 20000u);
}

TEST(CPlugin, CLockResultDoesNotDependOnWhereThePluginIsLoaded) {
  test::TempDir tmp;
  const fs::path copy = tmp.path() / "ticket_copy.so";
  fs::copy_file(kTicketSo, copy);
  plugin::PluginSet first, second;
  first.load(kTicketSo);
  second.load(copy.string());  // a second mapping of the same code, at another address
  const std::vector<std::string> sets = {"guest.locks.kind=c:ticket", "duration=5ms"};
  const auto a = run(first, kLockScenario, sets);
  const auto b = run(second, kLockScenario, sets);
  EXPECT_EQ(a.document.dump(), b.document.dump());
  // And again in the same process: the plugin's globals and objects start afresh.
  EXPECT_EQ(run(first, kLockScenario, sets).document.dump(), a.document.dump());
}

// A lock whose word is a global of the plugin: a run that ends with the lock held would leave the
// next run of the same process spinning forever, unless the plugin's data starts afresh.
TEST(CPlugin, PluginGlobalsStartAfreshAtEveryRunWhereverLoaded) {
  test::TempDir tmp;
  const fs::path copy = tmp.path() / "global_copy.so";
  fs::copy_file(kPlugins + "/global_lock.so", copy);
  plugin::PluginSet first, second;
  first.load(kPlugins + "/global_lock.so");
  second.load(copy.string());
  const std::vector<std::string> sets = {"guest.locks.kind=c:global", "duration=3ms",
                                         "expect={}"};
  const auto a = run(first, kLockScenario, sets);
  ASSERT_GT(a.document["metrics"]["locks.acquisitions"].get<double>(), 100);
  const Json again = run(first, kLockScenario, sets).document;
  EXPECT_EQ(again.dump(), a.document.dump());
  // Elsewhere in memory (another file name, so the globals' line is named differently).
  EXPECT_EQ(comparable(run(second, kLockScenario, sets).document).dump(1),
            comparable(a.document).dump(1));
  EXPECT_NE(a.document["coherence"].dump().find("global_lock.so.data0+0x"), std::string::npos)
      << a.document["coherence"].dump();
}

TEST(CPlugin, VcpusimCcBuildsAPluginThatRuns) {
  test::TempDir tmp;
  const std::string so = (tmp.path() / "ticket.so").string();
  const test::CliResult cc =
      test::run_cli({"cc", std::string(VCPUSIM_SOURCE_DIR) + "/examples/ticket_lock.c", "-o", so});
  ASSERT_EQ(cc.status, 0) << cc.err;
  const test::CliResult r = test::run_cli({"run", kLockScenario, "--plugin", so, "--set",
                                           "guest.locks.kind=c:ticket", "--quiet"});
  EXPECT_EQ(r.status, 0) << r.err;
  // A compiler error: exit 2, and no output file.
  const fs::path bad = tmp.path() / "bad.c";
  std::ofstream(bad) << "this is not C\n";
  const std::string bad_so = (tmp.path() / "bad.so").string();
  const test::CliResult e = test::run_cli({"cc", bad.string(), "-o", bad_so});
  EXPECT_EQ(e.status, 2);
  EXPECT_NE(e.err.find("vcpusim cc: the compiler failed"), std::string::npos) << e.err;
  EXPECT_FALSE(fs::exists(bad_so));
  for (const auto& f : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(f.path().filename().string().rfind(".vcpusim-cc-", 0), std::string::npos)
        << f.path();
}

// Every operation of <vcpusim/linux.h> on 1, 2, 4 and 8-byte objects, mixed sizes on one line,
// checked by the guest code itself: a wrong width, sign or result is a guest_assert violation.
TEST(CPlugin, LinuxHeaderOperationsGiveTheirResultsOnEverySize) {
  plugin::PluginSet plugins;
  plugins.load(kPlugins + "/atomics_lock.so");
  const auto r = run(plugins, kLockScenario,
                     {"guest.locks.kind=c:atomics", "duration=2ms", "expect={}",
                      "checks=[\"guest_assert\", \"mutual_exclusion\"]"});
  EXPECT_GT(r.document["metrics"]["locks.acquisitions"].get<double>(), 100);
  EXPECT_EQ(r.document["violation_counts"]["guest_assert"], 0) << r.document["violations"];
  EXPECT_EQ(r.document["violation_counts"]["mutual_exclusion"], 0);
}

TEST(CPlugin, CAssertionBecomesAViolationWithItsMessage) {
  plugin::PluginSet plugins;
  plugins.load(kPlugins + "/assert_lock.so");
  const auto r = run(plugins, kLockScenario,
                     {"guest.locks.kind=c:warn", "duration=1ms", "checks=[\"guest_assert\"]",
                      "expect={}"});
  ASSERT_GT(r.document["violation_counts"]["guest_assert"].get<int>(), 0);
  const std::string message = r.document["violations"][0]["message"];
  EXPECT_NE(message.find("WARN_ON(atomic_read(&lock->taken) == 1) at "), std::string::npos)
      << message;
  EXPECT_NE(message.find("assert_lock.c:"), std::string::npos) << message;
}

TEST(CPlugin, UnalignedAtomicEndsTheRunWithAClearMessage) {
  plugin::PluginSet plugins;
  plugins.load(kPlugins + "/assert_lock.so");
  try {
    run(plugins, kLockScenario, {"guest.locks.kind=c:unaligned", "duration=1ms"});
    FAIL() << "no error";
  } catch (const sim::ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("guest code on vCPU "), std::string::npos) << m;
    EXPECT_NE(m.find("unaligned 4-byte cmpxchg on line lock"), std::string::npos) << m;
  }
}

// Each bad plugin: one message naming the file and what is wrong, exit code 2.
void expect_bad(const std::vector<std::string>& args, const std::string& message) {
  const test::CliResult r = test::run_cli(args);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(CPlugin, MissingPluginFileIsBadInput) {
  expect_bad({"run", kLockScenario, "--plugin", kPlugins + "/nothing_here.so"},
             "plugin " + kPlugins + "/nothing_here.so: no such file");
}

TEST(CPlugin, ScenarioNamingAPluginNeedsTheCommandLinesPermission) {
  test::TempDir tmp;
  fs::copy_file(kTicketSo, tmp.path() / "ticket_lock.so");
  Json s = Json::parse(test::read_file(kLockScenario));
  s["plugins"] = {"ticket_lock.so"};
  s["guest"]["locks"]["kind"] = "c:ticket";
  s["duration"] = "2ms";
  s.erase("expect");
  const fs::path file = tmp.path() / "c.json";
  std::ofstream(file) << s.dump(2);
  expect_bad({"run", file.string(), "--quiet"},
             "$.plugins names plugin " + (tmp.path() / "ticket_lock.so").string() +
                 ", which is code that would run with your rights; allowed: load it by giving "
                 "--allow-plugins");
  EXPECT_EQ(test::run_cli({"run", file.string(), "--quiet", "--allow-plugins"}).status, 0);
  EXPECT_EQ(test::run_cli({"run", file.string(), "--quiet", "--plugin",
                           (tmp.path() / "ticket_lock.so").string()})
                .status,
            0);
}

TEST(CPlugin, PluginWithoutEntrySymbolIsBadInput) {
  expect_bad({"run", kLockScenario, "--plugin", kPlugins + "/no_init.so"},
             "plugin " + kPlugins + "/no_init.so: has no symbol vcpusim_plugin_init");
}

TEST(CPlugin, PluginBuiltForAnotherAbiVersionIsBadInput) {
  expect_bad({"run", kLockScenario, "--plugin", kPlugins + "/old_abi.so"},
             "plugin " + kPlugins +
                 "/old_abi.so: was built for guest ABI version 99; this "
                 "vcpusim runs version 2");
}

TEST(CPlugin, PluginLockIsAKindTheSchemaLists) {
  const test::CliResult r = test::run_cli({"schema", "--plugin", kTicketSo});
  ASSERT_EQ(r.status, 0) << r.err;
  const Json kind =
      Json::parse(r.out)["properties"]["guest"]["properties"]["locks"]["properties"]["kind"];
  const auto& names = kind["enum"];
  EXPECT_NE(std::find(names.begin(), names.end(), "c:ticket"), names.end()) << kind.dump();
}

}  // namespace
}  // namespace vcpusim
