// Issue 22 (security review of the scenario readers): the limits and floors every scenario and
// --set value must keep, one case or test per finding. Each bad input is refused by `run` and
// `validate` with one message naming the file, the JSON path, the value and the limit (exit 2);
// the tests after the table show the limit holds where it matters (memory, event rate, seeds).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bad_input_util.hpp"
#include "cli_util.hpp"
#include "cpu/params.hpp"
#include "sim/config/config.hpp"
#include "sim/config/scenario_file.hpp"
#include "text_file.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::test {

std::vector<Case> input_limit_cases() {
  const std::string base = kBaseScenario;
  // What a message shows of a --set assignment (sim::quote shortens it).
  auto set = [](const std::string& assignment) { return "--set " + sim::quote(assignment); };
  const std::string dup = R"(host={"pcpus":2,"pcpus":3})";
  const std::string nested_dup =
      R"(host.load=[{"kind":"duty","cpus":[0],"busy":"1ms","busy":"2ms"}])";
  const std::string deep = "host.x=" + std::string(99, '[') + std::string(99, ']');
  return {
      // Rate floors: a host load window below 1 us, a guest operation below 100 ps.
      {"poisson_load_window_too_short",
       bad("poisson-window-too-short.json"),
       {},
       Kind::kField,
       "$.host.load[0].busy",
       "\"1ns\" is too short",
       "at least 1us"},
      {"poisson_idle_too_short",
       base,
       {R"(host.load[0]={"kind":"poisson","cpus":[0],"busy":"1ms","idle":"1ps"})"},
       Kind::kField,
       "$.host.load[0].idle",
       "\"1ps\" is too short",
       "at least 1us"},
      {"cost_below_operation_floor",
       bad("cost-below-operation-floor.json"),
       {},
       Kind::kField,
       "$.costs.load",
       "\"1ps\" is out of range",
       "from \"100ps\""},
      {"vm_exit_below_operation_floor",
       base,
       {"costs.vm_exit=50ps"},
       Kind::kField,
       "$.costs.vm_exit",
       "\"50ps\" is out of range",
       "from \"100ps\""},
      {"lock_relax_below_operation_floor",
       base,
       {"guest.locks.relax=1ps"},
       Kind::kField,
       "$.guest.locks.relax",
       "\"1ps\" is out of range",
       "from \"100ps\""},
      // Guest tasks per vCPU (each a coroutine with its own stack): vCPU 0 already runs the
      // busy task, so the 64th entry here is its 65th task.
      {"tasks_per_vcpu_bounded",
       base,
       {"guest.workloads[1].vcpus=[" + [] {
         std::string l = "0";
         for (int i = 1; i < 64; ++i) l += ",0";
         return l;
       }() + "]"},
       Kind::kField,
       "$.guest.workloads[1].vcpus[63]",
       "would be guest task 65 on vCPU 0",
       "at most 64 guest tasks per vCPU"},
      // The name's length bound.
      {"name_too_long",
       bad("name-too-long.json"),
       {},
       Kind::kField,
       "$.name",
       "is 300 bytes long",
       "at most 256 bytes"},
      // Seeds: the whole unsigned 64-bit range, in the file as in --seed.
      {"seed_beyond_64_bits",
       bad("seed-beyond-64-bits.json"),
       {},
       Kind::kField,
       "$.seed",
       "is out of range",
       "from 0 to 18446744073709551615"},
      {"seed_negative", base, {"seed=-1"}, Kind::kField, "$.seed", "-1 is out of range", "from 0"},
      // Topology: the sockets split the cores evenly.
      {"sockets_not_a_divisor_of_the_cores",
       bad("sockets-not-a-divisor.json"),
       {},
       Kind::kField,
       "$.host.sockets",
       "4 sockets for 6 cores",
       "a divisor of the cores"},
      {"sockets_not_a_divisor_with_smt",
       base,
       {"host.pcpus=8", "host.threads_per_core=2", "host.sockets=3"},
       Kind::kField,
       "$.host.sockets",
       "3 sockets for 4 cores",
       "(4)"},
      // Min/max pairs that could be inverted.
      {"ple_window_above_ple_window_max",
       bad("ple-window-above-max.json"),
       {},
       Kind::kField,
       "$.vm.ple_window_max",
       "100 is below ple_window (4096)",
       "at least ple_window (4096)"},
      {"ple_window_alone_above_the_default_max",
       base,
       {"vm.ple_window=4294967296"},
       Kind::kField,
       "$.vm.ple_window",
       "4294967296 is above ple_window_max (2147483648)",
       "at most ple_window_max"},
      {"min_granularity_above_sched_latency",
       bad("min-granularity-above-latency.json"),
       {},
       Kind::kField,
       "$.host.scheduler.fair.sched_latency",
       "\"1ms\" is below min_granularity (\"2ms\")",
       "at least min_granularity"},
      // --set values follow the file's rules.
      {"set_value_duplicate_key",
       base,
       {dup},
       Kind::kField,
       set(dup),
       "$.host: key \"pcpus\" appears twice",
       "each key once"},
      {"set_value_duplicate_nested_key",
       base,
       {nested_dup},
       Kind::kField,
       set(nested_dup),
       "$.host.load[0]: key \"busy\" appears twice",
       "each key once"},
      {"set_value_nests_too_deep",
       base,
       {deep},
       Kind::kField,
       set(deep),
       "VALUE nests deeper than 98 levels under a PATH of 2 levels",
       "at most 100 nested arrays and objects in all"},
  };
}

}  // namespace vcpusim::test

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vcpusim::test::Case;
using vcpusim::test::CliResult;
using vcpusim::test::kBaseScenario;
using vcpusim::test::read_file;
using vcpusim::test::run_cli;
using vcpusim::test::TempDir;

class InputLimits : public ::testing::TestWithParam<Case> {};

TEST_P(InputLimits, RunGivesOneMessageExit2AndNoOutput) {
  vcpusim::test::expect_run_refused(GetParam());
}

TEST_P(InputLimits, ValidateGivesTheSameMessage) {
  vcpusim::test::expect_validate_refused(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cases, InputLimits,
                         ::testing::ValuesIn(vcpusim::test::input_limit_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

using vcpusim::test::write;

// `vcpusim ARGS...` with stdout and stderr discarded: its exit status and peak resident memory.
struct Usage {
  int status = -1;
  long max_rss_kb = 0;
};
Usage run_measured(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {VCPUSIM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  int raw = 0;
  rusage usage{};
  Usage u;
  if (pid > 0 && ::wait4(pid, &raw, 0, &usage) == pid) {
    u.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    u.max_rss_kb = usage.ru_maxrss;
  }
  return u;
}

// A file of brackets once cost 110 bytes of memory per byte (2.2 GB for 20 MB): the document was
// built to the bottom before its depth was checked. Refused where the parser reaches level 101,
// it costs the text and little more; the bound is ten times the file above what validating a
// one-line file costs the same binary (measured here, so a sanitizer's own footprint cancels).
TEST(NestingLimit, TenMegabytesOfBracketsAreRefusedInBoundedMemory) {
  TempDir tmp;
  const fs::path file = tmp.path() / "brackets.json", small = tmp.path() / "small.json";
  constexpr std::size_t kLevels = 5'000'000;
  write(file, "{\"name\":\"deep\",\"duration\":\"1ms\",\"host\":" + std::string(kLevels, '[') +
                  std::string(kLevels, ']') + "}");
  write(small, "{\"name\":\"deep\",\"duration\":\"1ms\",\"host\":[[]]}");
  const Usage base = run_measured({"validate", small.string()});
  const Usage u = run_measured({"validate", file.string()});
  EXPECT_EQ(base.status, 2);
  EXPECT_EQ(u.status, 2);
  const long file_kb = static_cast<long>(2 * kLevels / 1024);
  EXPECT_LT(u.max_rss_kb - base.max_rss_kb, 10 * file_kb)
      << u.max_rss_kb << " KB against " << base.max_rss_kb << " KB for a one-line file";
}

// The trace reader (timeline, report --trace) and the result reader (report) parse with the same
// bounded parser: 10 MB of brackets cost them what it costs validate, not 390 MB.
TEST(NestingLimit, DeepTracesAndResultsAreRefusedInBoundedMemory) {
  TempDir tmp;
  const fs::path file = tmp.path() / "brackets.json", small = tmp.path() / "small.json";
  constexpr std::size_t kLevels = 5'000'000;
  write(file, "{\"traceEvents\":" + std::string(kLevels, '[') + std::string(kLevels, ']') + "}");
  write(small, "{\"traceEvents\":[[]]}");
  const long file_kb = static_cast<long>(2 * kLevels / 1024);
  const std::string out = (tmp.path() / "out.html").string();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"timeline"}, std::vector<std::string>{"report", "-o", out}}) {
    std::vector<std::string> deep = command, shallow = command;
    deep.push_back(file.string());
    shallow.push_back(small.string());
    const Usage base = run_measured(shallow);
    const Usage u = run_measured(deep);
    EXPECT_EQ(u.status, 2) << command[0];
    EXPECT_LT(u.max_rss_kb - base.max_rss_kb, 10 * file_kb)
        << command[0] << ": " << u.max_rss_kb << " KB against " << base.max_rss_kb << " KB";
    const CliResult r = run_cli(deep);
    EXPECT_NE(r.err.find("nesting deeper than 100 levels"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(out));
}

// The limit is exactly kMaxJsonDepth levels: 100 are parsed (and judged by the loader), 101 not.
TEST(NestingLimit, ExactlyTheLimitIsParsedOneMoreIsNot) {
  using vcpusim::sim::kMaxJsonDepth;
  ASSERT_EQ(kMaxJsonDepth, 100);
  auto nested = [](int levels) {  // the root object, then levels - 1 arrays under "host"
    return "{\"name\":\"n\",\"duration\":\"1ms\",\"host\":" + std::string(levels - 1, '[') +
           std::string(levels - 1, ']') + "}";
  };
  TempDir tmp;
  const fs::path at = tmp.path() / "at.json", over = tmp.path() / "over.json";
  write(at, nested(kMaxJsonDepth));
  write(over, nested(kMaxJsonDepth + 1));
  const CliResult a = run_cli({"validate", at.string()});
  EXPECT_EQ(a.status, 2);
  EXPECT_NE(a.err.find("$.host: "), std::string::npos) << a.err;  // the loader's judgement
  EXPECT_EQ(a.err.find("nesting"), std::string::npos) << a.err;
  const CliResult o = run_cli({"validate", over.string()});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("nesting deeper than 100 levels at line 1, column 136"), std::string::npos)
      << o.err;
}

// A message shows the offending value through sim::describe, which once dumped the whole value:
// a trace event nested a million levels deep overflowed the stack, a crash instead of exit 2. It
// now shows a bounded prefix; and the trace reader now refuses such a file as it parses it.
TEST(NestingLimit, DescribingADeepValueDoesNotOverflowTheStack) {
  json deep = json::array();
  for (int i = 0; i < 100'000; ++i) deep = json::array({std::move(deep)});
  const std::string shown = vcpusim::sim::describe(deep);
  EXPECT_EQ(shown.size(), 60u) << shown;
  EXPECT_EQ(shown.rfind(std::string(32, '[') + "[...]]]]", 0), 0u) << shown;
  EXPECT_EQ(vcpusim::sim::describe(json::parse(R"({"a":[1,{"b":"c"}],"d":null})")),
            R"({"a":[1,{"b":"c"}],"d":null})");  // short values as nlohmann/json dumps them

  TempDir tmp;
  const fs::path trace = tmp.path() / "trace.json";
  constexpr std::size_t kLevels = 1'000'000;
  write(trace, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[" + std::string(kLevels, '[') +
                   std::string(kLevels, ']') + "]}");
  const CliResult r = run_cli({"timeline", trace.string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("nesting deeper than 100 levels"), std::string::npos) << r.err;
}

// --seed 2^63 once ran, but its result's scenario could not be run again (the file's "seed" took
// 0..2^63-1). The largest seed now round-trips: the result's scenario re-runs to the same
// fingerprint.
TEST(SeedRange, TheLargestSeedRoundTripsThroughTheResult) {
  TempDir tmp;
  const fs::path first = tmp.path() / "first.json", again = tmp.path() / "again.json";
  // A poisson load: its windows come from the seed from the start.
  const std::string load =
      R"(host.load=[{"kind":"poisson","cpus":[0],"busy":"100us","idle":"100us"}])";
  const CliResult r = run_cli({"run", kBaseScenario, "--quiet", "--no-expect", "--seed",
                               "18446744073709551615", "--set", "duration=2ms", "--set", load,
                               "--json", first.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json result = json::parse(read_file(first));
  EXPECT_EQ(result["scenario"]["seed"].get<std::uint64_t>(), UINT64_MAX);
  const fs::path scenario = tmp.path() / "scenario.json";
  write(scenario, result["scenario"].dump(2));
  const CliResult r2 =
      run_cli({"run", scenario.string(), "--quiet", "--no-expect", "--json", again.string()});
  ASSERT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(json::parse(read_file(again))["fingerprint"], result["fingerprint"]);
  // Another seed gives another run: the seed is not clamped on the way.
  const CliResult r3 = run_cli({"run", kBaseScenario, "--quiet", "--no-expect", "--seed", "7",
                                "--set", "duration=2ms", "--set", load, "--json", again.string()});
  ASSERT_EQ(r3.status, 0) << r3.err;
  EXPECT_NE(json::parse(read_file(again))["fingerprint"], result["fingerprint"]);
}

// The name bound is exactly kMaxNameBytes bytes.
TEST(NameLength, ExactlyTheLimitIsAcceptedOneMoreByteIsNot) {
  ASSERT_EQ(vcpusim::tools::kMaxNameBytes, 256u);
  const std::string name(vcpusim::tools::kMaxNameBytes, 'n');
  EXPECT_EQ(run_cli({"validate", kBaseScenario, "--set", "name=" + name}).status, 0);
  const CliResult r = run_cli({"validate", kBaseScenario, "--set", "name=" + name + "n"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("$.name: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is 257 bytes long; allowed: a name of at most 256 bytes"),
            std::string::npos)
      << r.err;
}

// At 1 ps costs a vDSO reader with no think time ran 1100 simulation steps per simulated ns.
// With every operation at its floor (kMinOperationCost, and the costs that may be 0 at 0), each
// step that takes time takes at least 100 ps, and the loop makes at most about one step that
// takes none per step that does: at most 20 steps per simulated ns for each busy vCPU.
TEST(RateFloors, CostsAtTheirFloorsKeepTheStepRateBounded) {
  using namespace vcpusim;
  const std::string floor = sim::format_duration(cpu::kMinOperationCost);
  sim::Json costs = sim::Json::object();
  for (const char* c : {"load", "store", "atomic", "barrier", "rdtsc", "vm_exit", "vm_entry",
                        "irq_entry", "irq_exit", "spin_recheck"})
    costs[c] = floor;
  for (const char* c : {"cacheline_same_core", "cacheline_same_socket", "cacheline_cross_socket",
                        "hypercall", "context_switch", "ipi_send", "ipi_posted", "halt_wakeup"})
    costs[c] = "0ns";
  costs["timekeeping"] = {{"accumulate", "0ns"}, {"ntp_adjust", "0ns"}, {"copy", "0ns"},
                          {"vsyscall", "0ns"},   {"read_compute", "0ns"}};
  const sim::Tick duration = 20 * sim::kMicrosecond;
  const sim::Json raw = {
      {"name", "floors"},
      {"duration", sim::format_duration(duration)},
      {"vm", {{"vcpus", 2}}},
      {"costs", costs},
      {"guest",
       {{"locks", {{"relax", floor}}},
        {"workloads",
         {{{"kind", "vdso_reader"}, {"vcpus", {0}}, {"think", "0ns"}},
          {{"kind", "ktime_reader"}, {"vcpus", {1}}, {"think", "0ns"}}}}}}};
  const auto s = tools::Scenario::from_json(raw, "floors.json");
  const tools::RunResult r = tools::run_scenario(*s);
  const auto steps = r.document["metrics"]["sim.steps"].get<std::uint64_t>();
  const std::uint64_t bound = 2 * 2 * static_cast<std::uint64_t>(duration / cpu::kMinOperationCost);
  EXPECT_LE(steps, bound) << steps << " steps in " << sim::format_duration(duration);
  EXPECT_GT(steps, bound / 100) << "the readers hardly ran: the test shows nothing";
}

}  // namespace
