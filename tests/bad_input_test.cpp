// Every bad input to the real vcpusim binary gives exit status 2, exactly one line on stderr that
// names the file, the JSON path, the offending value and what is allowed, and no output file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bad_input_util.hpp"
#include "cli_util.hpp"
#include "scenario_util.hpp"

namespace fs = std::filesystem;
using vcpusim::test::bad;
using vcpusim::test::Case;
using vcpusim::test::CliResult;
using vcpusim::test::expect_one_message;
using vcpusim::test::Kind;
using vcpusim::test::kBadDir;
using vcpusim::test::kSourceDir;
using vcpusim::test::run_cli;
using vcpusim::test::TempDir;

namespace vcpusim::test {
namespace {
const std::string kBase = kBaseScenario;
}  // namespace

std::vector<Case> cases() {
  return {
      {"syntax_error", bad("syntax-error.json"), {}, Kind::kSyntax, "$", "line 5, column 12"},
      {"number_overflow", bad("number-overflow.json"), {}, Kind::kField, "$", "1e400"},
      {"nesting_too_deep",
       bad("nesting-too-deep.json"),
       {},
       Kind::kField,
       "$",
       "nesting deeper than 100 levels at line 15"},
      {"unknown_top_level_key",
       bad("unknown-top-level-key.json"),
       {},
       Kind::kField,
       "$",
       "unknown key \"durration\""},
      {"unknown_key_with_newline",
       bad("unknown-key-with-newline.json"),
       {},
       Kind::kField,
       "$",
       "unknown key \"dura\\ntion\""},
      {"unknown_scheduler_key",
       bad("unknown-scheduler-key.json"),
       {},
       Kind::kField,
       "$.host.scheduler",
       "unknown key \"quantum\""},
      {"pcpus_is_string",
       bad("pcpus-is-string.json"),
       {},
       Kind::kField,
       "$.host.pcpus",
       "\"two\" is a string"},
      {"duration_bad_unit",
       bad("duration-bad-unit.json"),
       {},
       Kind::kField,
       "$.duration",
       "\"4 parsecs\" is not a duration"},
      {"duration_no_unit",
       bad("duration-no-unit.json"),
       {},
       Kind::kField,
       "$.vm.timer_jitter",
       "\"4\" is not a duration"},
      {"duration_out_of_range",
       bad("duration-out-of-range.json"),
       {},
       Kind::kField,
       "$.duration",
       "\"2000s\" is out of range"},
      {"tsc_frequency_no_unit",
       bad("tsc-frequency-no-unit.json"),
       {},
       Kind::kField,
       "$.vm.tsc_frequency",
       "\"2.5\" is not a frequency"},
      {"pcpus_zero", bad("pcpus-zero.json"), {}, Kind::kField, "$.host.pcpus", "0 is out of range"},
      {"hz_out_of_range",
       bad("hz-out-of-range.json"),
       {},
       Kind::kField,
       "$.guest.timekeeping.hz",
       "100000 is out of range"},
      {"unknown_variant",
       bad("unknown-variant.json"),
       {},
       Kind::kField,
       "$.guest.timekeeping.variant",
       "\"seqlock-free\" is not a known choice"},
      {"pinning_bad_pcpu",
       bad("pinning-bad-pcpu.json"),
       {},
       Kind::kField,
       "$.vm.pinning[1][0]",
       "2 is out of range"},
      {"load_cpu_not_on_host",
       bad("load-cpu-not-on-host.json"),
       {},
       Kind::kField,
       "$.host.load[0].cpus[1]",
       "5 is not a pCPU"},
      {"workload_vcpu_out_of_range",
       bad("workload-vcpu-out-of-range.json"),
       {},
       Kind::kField,
       "$.guest.workloads[1].vcpus[0]",
       "2 is not a vCPU"},
      {"ntp_direction_and_schedule",
       bad("ntp-direction-and-schedule.json"),
       {},
       Kind::kField,
       "$.guest.timekeeping.ntp",
       "both a scripted direction and an adjtimex schedule"},
      {"load_script_overlap",
       bad("load-script-overlap.json"),
       {},
       Kind::kField,
       "$.host.load[0].windows[1]",
       "[\"20ms\",\"60ms\"] overlaps"},
      {"expect_unknown_check",
       bad("expect-unknown-check.json"),
       {},
       Kind::kField,
       "$.expect.violations",
       "unknown key \"time_warp\""},
      {"checks_unknown",
       bad("checks-unknown.json"),
       {},
       Kind::kField,
       "$.checks[1]",
       "\"no_starvation\" is not a known choice"},
      {"missing_duration",
       bad("missing-duration.json"),
       {},
       Kind::kField,
       "$",
       "missing key \"duration\""},
      {"ipi_storm_target_out_of_range",
       bad("ipi-storm-target-out-of-range.json"),
       {},
       Kind::kField,
       "$.guest.workloads[0].targets[1]",
       "2 is not a vCPU"},
      {"ipi_storm_no_targets",
       bad("ipi-storm-no-targets.json"),
       {},
       Kind::kField,
       "$.guest.workloads[0]",
       "missing key \"targets\""},
      {"rcu_gp_cpu_out_of_range",
       kSourceDir + "/scenarios/rcu-grace-period.json",
       {"guest.rcu.gp_cpu=4"},
       Kind::kField,
       "$.guest.rcu.gp_cpu",
       "4 is not a vCPU"},
      {"rcu_reader_unknown_key",
       kSourceDir + "/scenarios/rcu-grace-period.json",
       {"guest.workloads[1].sleep=\"1ms\""},
       Kind::kField,
       "$.guest.workloads[1]",
       "unknown key \"sleep\""},
      {"rcu_workload_too_many_vcpus",
       bad("rcu-too-many-vcpus.json"),
       {},
       Kind::kField,
       "$.guest.workloads[0].kind",
       "supports up to 64 vCPUs"},
      {"mmu_notifier_unknown_variant",
       kSourceDir + "/scenarios/mmu-notifier-sleep.json",
       {"guest.mmu_notifier.variant=seqlock"},
       Kind::kField,
       "$.guest.mmu_notifier.variant",
       "\"seqlock\""},
      {"nmi_reader_no_source",
       bad("nmi-reader-no-source.json"),
       {},
       Kind::kField,
       "$.guest.workloads[0]",
       "no NMI source"},
      {"limits_hang_zero",
       bad("limits-hang-zero.json"),
       {},
       Kind::kField,
       "$.limits.hang_after",
       "\"0ns\" is out of range"},
      // Issue 13: inputs once accepted silently, and runs that could not end.
      {"duplicate_key",
       bad("duplicate-key.json"),
       {},
       Kind::kField,
       "$.host",
       "key \"pcpus\" appears twice"},
      {"nul_byte", bad("nul-byte.json"), {}, Kind::kSyntax, "$", "a NUL byte at line 3, column 9"},
      {"duration_leading_dot",
       bad("duration-leading-dot.json"),
       {},
       Kind::kField,
       "$.duration",
       "\".5ms\" is not a duration"},
      {"sockets_more_than_pcpus",
       bad("sockets-more-than-pcpus.json"),
       {},
       Kind::kField,
       "$.host.sockets",
       "4 sockets for 2 pCPUs"},
      {"ntp_mult_to_zero",
       bad("ntp-mult-to-zero.json"),
       {},
       Kind::kField,
       "$.guest.timekeeping.ntp",
       "would move mult from 6710886 to -57289114"},
      {"duty_window_too_short",
       bad("duty-window-too-short.json"),
       {},
       Kind::kField,
       "$.host.load[0].busy",
       "\"1ns\" is too short"},
      {"nmi_period_too_short",
       bad("nmi-period-too-short.json"),
       {},
       Kind::kField,
       "$.guest.workloads[0].period",
       "\"1ps\" is too short"},
      {"ipi_storm_endless",
       bad("ipi-storm-endless.json"),
       {},
       Kind::kField,
       "$.guest.workloads[0]",
       "an endless storm"},
      {"set_stray_bracket",
       kBase,
       {"host.load[0]].busy=1ms"},
       Kind::kField,
       "--set \"host.load[0]].busy=1ms\"",
       "PATH needs \".\" or \"[\" at character 13"},
      {"set_bad_index",
       kBase,
       {"host.load[x].busy=1ms"},
       Kind::kField,
       "--set \"host.load[x].busy=1ms\"",
       "bad index"},
      {"set_empty_name",
       kBase,
       {"host..pcpus=2"},
       Kind::kField,
       "--set \"host..pcpus=2\"",
       "empty name"},
      {"special_file", "/dev/zero", {}, Kind::kMissing, "", ""},
      {"missing_file", bad("does-not-exist.json"), {}, Kind::kMissing, "", ""},
      {"directory", kBadDir, {}, Kind::kMissing, "", ""},
      // Command-line overrides of the valid base scenario.
      {"set_index_out_of_range",
       kBase,
       {"host.load[5].busy=1ms"},
       Kind::kField,
       "$.host.load[5]",
       "index 5 is out of range"},
      {"set_not_an_index",
       kBase,
       {"host.load.first.busy=1ms"},
       Kind::kField,
       "$.host.load",
       "\"first\" is not an index"},
      {"set_through_a_number",
       kBase,
       {"host.pcpus.count=2"},
       Kind::kField,
       "$.host.pcpus",
       "2 has no member \"count\""},
      {"set_without_equals",
       kBase,
       {"host.pcpus"},
       Kind::kField,
       "--set \"host.pcpus\"",
       "has no \"=\""},
      {"set_empty_path", kBase, {"=4"}, Kind::kField, "--set \"=4\"", "empty PATH"},
      {"threads_per_core_not_a_divisor",
       kBase,
       {"host.threads_per_core=3"},
       Kind::kField,
       "$.host.threads_per_core",
       "3 threads per core for 2 pCPUs"},
      {"sockets_more_than_cores",
       kBase,
       {"host.threads_per_core=2", "host.sockets=2"},
       Kind::kField,
       "$.host.sockets",
       "2 sockets for 1 core"},
      {"set_unknown_key", kBase, {"host.cores=4"}, Kind::kField, "$.host", "unknown key \"cores\""},
      {"set_bad_integer",
       kBase,
       {"host.pcpus=lots"},
       Kind::kField,
       "$.host.pcpus",
       "\"lots\" is a string"},
      {"set_bad_duration",
       kBase,
       {"host.load[0].busy=5 parsecs"},
       Kind::kField,
       "$.host.load[0].busy",
       "\"5 parsecs\" is not a duration"},
      {"set_bad_enum",
       kBase,
       {"guest.timekeeping.variant=bogus"},
       Kind::kField,
       "$.guest.timekeeping.variant",
       "\"bogus\" is not a known choice"},
      {"set_number_overflow",
       kBase,
       {"guest.timekeeping.ntp.mult_steps=1e400"},
       Kind::kField,
       "$.guest.timekeeping.ntp.mult_steps",
       "\"1e400\" is a string"},
      {"set_invalid_utf8",
       kBase,
       {"host.pcpus=\xff"},
       Kind::kField,
       "--set \"host.pcpus=\xEF\xBF\xBD\"",
       "is not valid UTF-8"},
  };
}

}  // namespace vcpusim::test

namespace {

using vcpusim::test::cases;
const std::string kBase = vcpusim::test::kBaseScenario;

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, RunGivesOneMessageExit2AndNoOutput) {
  vcpusim::test::expect_run_refused(GetParam());
}

TEST_P(BadInput, ValidateGivesTheSameMessage) {
  vcpusim::test::expect_validate_refused(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// Every file in tests/bad_scenarios/ is a case of the table above or of input_limits_test.cpp's.
TEST(BadInputCatalogue, EveryBadScenarioFileIsACase) {
  std::set<std::string> listed;
  for (const auto& c : cases()) listed.insert(c.file);
  for (const auto& c : vcpusim::test::input_limit_cases()) listed.insert(c.file);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(kBadDir)) {
    ++files;
    EXPECT_TRUE(listed.count(e.path().string()))
        << e.path() << " has no case in bad_input_test.cpp";
  }
  EXPECT_GE(files, 12u);
}

// A file nested 100000 levels deep once overflowed the stack (a crash, not exit 2).
TEST(BadInputCli, DeepNestingIsRejectedWithoutACrash) {
  TempDir tmp;
  const fs::path file = tmp.path() / "deep.json";
  {
    std::ofstream f(file);
    f << "{\"name\": \"deep\", \"duration\": \"1ms\", \"host\": " << std::string(100000, '[')
      << std::string(100000, ']') << "}\n";
  }
  const Case c{"deep", file.string(), {}, Kind::kField, "$", "nesting deeper than 100 levels"};
  expect_one_message(c,
                     run_cli({"run", file.string(), "--json", (tmp.path() / "out.json").string()}));
  EXPECT_FALSE(fs::exists(tmp.path() / "out.json"));
}

// The control for the checks above: a good run does write the --json file.
TEST(BadInputCli, GoodRunWritesTheJsonFile) {
  TempDir tmp;
  const fs::path out = tmp.path() / "result.json";
  const CliResult r =
      run_cli({"run", kBase, "--set", "duration=1ms", "--quiet", "--json", out.string()});
  EXPECT_TRUE(r.status == 0 || r.status == 1) << r.status << "\n" << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
}

std::vector<fs::path> catalogue_scenarios() {
  std::vector<fs::path> files;
  for (const auto& name : vcpusim::test::catalogue_files())
    files.push_back(vcpusim::test::scenario_path(name));
  return files;
}

TEST(BadInputCli, EveryCatalogueScenarioValidates) {
  const auto files = catalogue_scenarios();
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const CliResult r = run_cli({"validate", f.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_NE(r.out.find("valid scenario"), std::string::npos) << r.out;
  }
}

TEST(BadInputCli, UnknownCommandExits2) {
  const CliResult r = run_cli({"frobnicate"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(BadInputCli, RunWithoutAFileExits2) {
  const CliResult r = run_cli({"run"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("needs a scenario FILE"), std::string::npos) << r.err;
}

TEST(BadInputCli, NoCommandExits2) {
  EXPECT_EQ(run_cli({}).status, 2);
}

}  // namespace
