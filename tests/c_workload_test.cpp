// Workloads of C plugins (docs/c-guest-code.md, plugin/c_workload.hpp): typed parameters under the
// strict loader, plugin metrics, per-CPU data, allocation with use-after-free detection, the
// preemption count, trace notes and spans, the no_lost_wakeup check of a C pv_wait, and the
// split-publish timekeeper (examples/timekeeper.c, seed 001 in C) against its fixed build.
#include <gtest/gtest.h>

#include <cstring>

#include "plugin/plugin_set.hpp"
#include "sim/error.hpp"
#include "tests/cli_util.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim {
namespace {

using sim::Json;

const std::string kPlugins = VCPUSIM_PLUGIN_DIR;
const std::string kTimekeeperSo = kPlugins + "/timekeeper.so";
const std::string kTimekeeperFixedSo = kPlugins + "/timekeeper_fixed.so";
const std::string kFeaturesSo = kPlugins + "/c_features.so";
const std::string kInputs = std::string(VCPUSIM_SOURCE_DIR) + "/tests/inputs";
const std::string kTimekeeperScenario = std::string(VCPUSIM_SOURCE_DIR) + "/examples/timekeeper.json";
const std::string kFeaturesScenario = kInputs + "/c-features.json";

tools::RunResult run(const plugin::PluginSet& plugins, const std::string& file,
                     const std::vector<std::string>& sets, bool keep_events = false) {
  auto s = tools::Scenario::load(file, sets, std::nullopt, plugins.registries());
  tools::RunOptions options;
  options.keep_events = keep_events;
  return tools::run_scenario(*s, options);
}

std::unique_ptr<plugin::PluginSet> load(const std::string& so) {
  auto set = std::make_unique<plugin::PluginSet>();
  set->load(so);
  return set;
}

// The message loading `file` with `sets` fails with ("" when it loads).
std::string load_error(const plugin::PluginSet& plugins, const std::string& file,
                       const std::vector<std::string>& sets) {
  try {
    tools::Scenario::load(file, sets, std::nullopt, plugins.registries());
  } catch (const sim::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::size_t violations(const tools::RunResult& r, const std::string& check) {
  return r.document["violation_counts"].value(check, 0u);
}

std::string messages(const tools::RunResult& r) {
  std::string out;
  for (const Json& v : r.document["violations"]) out += v["message"].get<std::string>() + "\n";
  return out;
}

// --- the timekeeper --------------------------------------------------------------------------

// Seed 001 in C: the host preempts the writer between its c0 read and its second publish step;
// the readers' time goes backwards. The fixed build (one seqcount section over c0 and the
// publish) is clean over the same seeds, and the buggy one is clean without the host load.
TEST(CWorkload, SplitPublishTimekeeperGoesBackwardsOnlyUnderHostPreemptionAndFixedDoesNot) {
  const auto buggy = load(kTimekeeperSo);
  const auto fixed = load(kTimekeeperFixedSo);
  for (const std::string seed : {"1", "2", "3"}) {
    SCOPED_TRACE("seed " + seed);
    const auto b = run(*buggy, kTimekeeperScenario, {"seed=" + seed});
    const Json& bm = b.document["metrics"];
    EXPECT_GE(violations(b, "guest_assert"), 1u);
    EXPECT_NE(messages(b).find("vDSO time went backwards"), std::string::npos) << messages(b);
    EXPECT_GE(bm["timekeeper.backward_steps"].get<double>(), 1);
    EXPECT_TRUE(b.expect_met);

    const auto f = run(*fixed, kTimekeeperScenario, {"seed=" + seed, "expect={}"});
    const Json& fm = f.document["metrics"];
    EXPECT_EQ(violations(f, "guest_assert"), 0u) << messages(f);
    EXPECT_EQ(fm["timekeeper.backward_steps"].get<double>(), 0);
    // The same updates happened, and readers waited out the preempted write section.
    EXPECT_EQ(fm["timekeeper.updates"], bm["timekeeper.updates"]);
    EXPECT_GT(fm["timekeeper.updates"].get<double>(), 5);
    EXPECT_GT(fm["timekeeper.retries"].get<double>(), 0);
  }
  const auto quiet = run(*buggy, kTimekeeperScenario, {"host.load=[]", "expect={}"});
  EXPECT_EQ(violations(quiet, "guest_assert"), 0u) << messages(quiet);
  EXPECT_GT(quiet.document["metrics"]["timekeeper.updates"].get<double>(), 10);
}

TEST(CWorkload, ParametersAreEchoedWithTheirDefaults) {
  const auto tk = load(kTimekeeperSo);
  const auto r = run(*tk, kTimekeeperScenario, {"duration=1ms", "expect={}"});
  const Json& w = r.document["scenario"]["guest"]["workloads"];
  EXPECT_EQ(w[0]["tick"], "4ms");
  EXPECT_EQ(w[0]["update"], "30us");
  EXPECT_EQ(w[0]["adjust_ppm"], 500);
  EXPECT_EQ(w[1]["pause"], "200ns");
  const auto s = tools::Scenario::load(kTimekeeperScenario,
                                       {"guest.workloads[0]={\"kind\": \"c:tk_writer\", "
                                        "\"vcpus\": [0]}"},
                                       std::nullopt, tk->registries());
  EXPECT_EQ(s->resolved()["guest"]["workloads"][0]["adjust_ppm"], 500);
  EXPECT_EQ(s->resolved()["guest"]["workloads"][0]["update"], "10us");
}

// Each bad parameter is one message: the file, the JSON path, the value, what is allowed.
TEST(CWorkload, EachBadParameterGetsOneMessage) {
  const auto tk = load(kTimekeeperSo);
  const std::string f = kTimekeeperScenario;
  EXPECT_EQ(load_error(*tk, f, {"guest.workloads[0].adjust_ppm=501"}),
            f + ": $.guest.workloads[0].adjust_ppm: 501 is out of range; allowed: an integer "
                "from 0 to 500");
  EXPECT_EQ(load_error(*tk, f, {"guest.workloads[0].adjust_ppm=\"lots\""}),
            f + ": $.guest.workloads[0].adjust_ppm: \"lots\" is a string; allowed: an integer "
                "from 0 to 500");
  EXPECT_EQ(load_error(*tk, f, {"guest.workloads[0].tick=\"5ns\""}),
            f + ": $.guest.workloads[0].tick: \"5ns\" is out of range; allowed: a duration "
                "string from \"10us\" to \"1s\" with a unit ps, ns, us, ms or s");
  EXPECT_EQ(load_error(*tk, f, {"guest.workloads[0].tick=4000000"}),
            f + ": $.guest.workloads[0].tick: 4000000 is an integer; allowed: a duration "
                "string from \"10us\" to \"1s\" with a unit ps, ns, us, ms or s");
  const std::string unknown = load_error(*tk, f, {"guest.workloads[1].tick=\"1ms\""});
  EXPECT_EQ(unknown.rfind(f + ": $.guest.workloads[1]: unknown key \"tick\"; allowed: keys ", 0),
            0u)
      << unknown;
  EXPECT_NE(unknown.find("\"pause\""), std::string::npos) << unknown;
  EXPECT_EQ(load_error(*tk, f, {"guest.workloads[0].kind=\"c:tk_writr\""}).find("c:tk_writer"),
            load_error(*tk, f, {"guest.workloads[0].kind=\"c:tk_writr\""}).rfind("c:tk_writer"))
      << "the known kinds are listed once";
  const auto features = load(kFeaturesSo);
  EXPECT_EQ(
      load_error(*features, kFeaturesScenario,
                 {"guest.workloads=[{\"kind\": \"t:alloc\", \"vcpus\": [0], \"variant\": 4}]"}),
      kFeaturesScenario +
          ": $.guest.workloads[0].variant: 4 is out of range; allowed: an integer from 0 to 3");
  // And the command line: exit 2, the message on stderr, nothing else.
  const test::CliResult cli = test::run_cli(
      {"run", f, "--plugin", kTimekeeperSo, "--set", "guest.workloads[0].adjust_ppm=-1"});
  EXPECT_EQ(cli.status, 2);
  EXPECT_NE(cli.err.find("$.guest.workloads[0].adjust_ppm: -1 is out of range"), std::string::npos)
      << cli.err;
  EXPECT_EQ(cli.out, "");
}

TEST(CWorkload, ABadParameterDeclarationFailsTheLoad) {
  plugin::PluginSet set;
  try {
    set.load(kPlugins + "/bad_workload.so");
    FAIL() << "loaded";
  } catch (const sim::ConfigError& e) {
    EXPECT_STREQ(e.what(), ("plugin " + kPlugins +
                            "/bad_workload.so: workload \"c:bad\" parameter \"spins\" has min 1, "
                            "max 10 and default 20; allowed: min <= default <= max")
                               .c_str());
  }
}

TEST(CWorkload, AParameterNamedAsABuiltinKeyFailsTheLoad) {
  plugin::PluginSet set;
  try {
    set.load(kPlugins + "/clash_workload.so");
    FAIL() << "loaded";
  } catch (const sim::ConfigError& e) {
    EXPECT_STREQ(e.what(), ("plugin " + kPlugins +
                            "/clash_workload.so: workload \"c:clash\" parameter \"count\" is a "
                            "built-in workload key; allowed: another name")
                               .c_str());
  }
}

TEST(CWorkload, SchemaWithThePluginListsItsKindsParametersAndMetrics) {
  const test::CliResult schema = test::run_cli({"schema", "--plugin", kTimekeeperSo});
  ASSERT_EQ(schema.status, 0) << schema.err;
  const Json s = Json::parse(schema.out);
  const std::string dump = s.dump();
  EXPECT_NE(dump.find("c:tk_writer: the timekeeper"), std::string::npos);
  const Json& item = s["properties"]["guest"]["properties"]["workloads"]["items"];
  EXPECT_EQ(item["properties"]["adjust_ppm"]["maximum"], 500);
  EXPECT_EQ(item["properties"]["tick"]["type"], "string");
  const test::CliResult metrics =
      test::run_cli({"metrics", kTimekeeperScenario, "--plugin", kTimekeeperSo});
  ASSERT_EQ(metrics.status, 0) << metrics.err;
  EXPECT_NE(metrics.out.find("timekeeper.backward_steps"), std::string::npos) << metrics.out;
  const test::CliResult checks = test::run_cli({"checks", "--plugin", kTimekeeperSo});
  ASSERT_EQ(checks.status, 0) << checks.err;
  EXPECT_NE(checks.out.find("preempt_count"), std::string::npos) << checks.out;
  const auto tk = load(kTimekeeperSo);
  const auto* m = tk->registries().metrics.find("timekeeper.updates");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->unit, "count");
  EXPECT_EQ(m->group, "C plugins");
}

// --- the guest features ----------------------------------------------------------------------

std::string workload(const std::string& kind, const std::string& vcpus, int variant,
                     int rounds = 100) {
  return "guest.workloads=[{\"kind\": \"" + kind + "\", \"vcpus\": " + vcpus +
         ", \"variant\": " + std::to_string(variant) + ", \"rounds\": " + std::to_string(rounds) +
         "}]";
}

TEST(CWorkload, PerCpuCopiesAreEachVcpusOwnInAreasOfTheirOwn) {
  const auto f = load(kFeaturesSo);
  const auto r = run(*f, kFeaturesScenario, {workload("t:percpu", "\"all\"", 0, 50)});
  EXPECT_EQ(r.document["violations"].size(), 0u) << messages(r);
  EXPECT_EQ(r.document["metrics"]["features.hits"], 100);
  // The two copies of `hits` never share a line: each vCPU's area is a region of its own, and
  // the only transfers are the one look of each vCPU at the other's copy.
  const Json& coherence = r.document["coherence"];
  EXPECT_EQ(r.document["metrics"]["memory.cacheline_transfers"], 2) << coherence.dump();
  std::vector<std::string> lines;
  for (const Json& line : coherence["top_lines"]) lines.push_back(line["name"]);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"c_features.so.percpu0+0x0", "c_features.so.percpu1+0x0"}))
      << coherence.dump();
  EXPECT_EQ(run(*f, kFeaturesScenario, {workload("t:percpu", "\"all\"", 0, 50)}).document.dump(),
            r.document.dump());
}

TEST(CWorkload, AnAccessToFreedGuestMemoryIsAUseAfterFree) {
  const auto f = load(kFeaturesSo);
  const auto good = run(*f, kFeaturesScenario, {workload("t:alloc", "[0]", 0)});
  EXPECT_EQ(good.document["violations"].size(), 0u) << messages(good);
  const auto bad = run(*f, kFeaturesScenario, {workload("t:alloc", "[0]", 1)});
  ASSERT_EQ(violations(bad, "use_after_free"), 1u) << messages(bad);
  const std::string m = messages(bad);
  EXPECT_NE(m.find("vCPU0 load of 8 bytes at kmalloc0+0x8, an object freed by vCPU 0 at "),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("c_features.c:"), std::string::npos) << m;
}

TEST(CWorkload, PreemptionCountMisuseIsAViolation) {
  const auto f = load(kFeaturesSo);
  EXPECT_EQ(
      run(*f, kFeaturesScenario, {workload("t:preempt", "[0]", 0)}).document["violations"].size(),
      0u);
  const auto leak = run(*f, kFeaturesScenario, {workload("t:preempt", "[0]", 1)});
  EXPECT_EQ(violations(leak, "preempt_count"), 1u);
  EXPECT_NE(messages(leak).find("workload t:preempt returned on vCPU 0 with preemption disabled "
                                "(preempt_count 1)"),
            std::string::npos)
      << messages(leak);
  const auto twice = run(*f, kFeaturesScenario, {workload("t:preempt", "[0]", 2)});
  EXPECT_EQ(violations(twice, "preempt_count"), 1u);
  EXPECT_NE(messages(twice).find("preempt_enable on vCPU 0 with preemption already enabled"),
            std::string::npos)
      << messages(twice);
  const auto sleep = run(*f, kFeaturesScenario, {workload("t:preempt", "[0]", 3)});
  EXPECT_EQ(violations(sleep, "preempt_count"), 1u);
  EXPECT_NE(messages(sleep).find("with preemption disabled (preempt_count 1): a sleeping function "
                                 "called from atomic context"),
            std::string::npos)
      << messages(sleep);
}

TEST(CWorkload, TraceNotesAndSpansAreRecordedOnTheVcpusLane) {
  const auto f = load(kFeaturesSo);
  const auto r = run(*f, kFeaturesScenario, {workload("t:trace", "[1]", 0, 3)}, true);
  std::int64_t note = -1, span = -1;
  for (const auto& [id, name] : r.labels) {
    if (name == "c checkpoint") note = id;
    if (name == "c work") span = id;
  }
  ASSERT_GE(note, 0);
  ASSERT_GE(span, 0);
  int notes = 0, begins = 0, ends = 0;
  for (const auto& e : r.events) {
    if (e.kind == "c.note" && e.a == note) ++notes;
    if (e.kind == "c.span_begin" && e.a == span) ++begins;
    if (e.kind == "c.span_end" && e.a == span) ++ends;
  }
  EXPECT_EQ(notes, 3);
  EXPECT_EQ(begins, 3);
  EXPECT_EQ(ends, 3);
}

// A C pv_wait watches its bytes: set without a kick while the waiter is halted, the wake-up is
// lost, and no_lost_wakeup says so; with the kick it is not.
TEST(CWorkload, NoLostWakeupWatchesTheConditionOfACPvWait) {
  const auto f = load(kFeaturesSo);
  const auto kicked = run(*f, kFeaturesScenario, {workload("t:wakeup", "\"all\"", 0)});
  EXPECT_EQ(kicked.document["violations"].size(), 0u) << messages(kicked);
  const auto lost = run(*f, kFeaturesScenario, {workload("t:wakeup", "\"all\"", 1)});
  EXPECT_EQ(violations(lost, "no_lost_wakeup"), 1u) << messages(lost);
  EXPECT_NE(messages(lost).find("pv_wait on c_features.so.data"), std::string::npos)
      << messages(lost);
}

}  // namespace
}  // namespace vcpusim
