// Issue 22, files vcpusim reads back: a malformed replay is bad input (exit 2) in every command
// that runs one, a replay must carry its fingerprint, and a truncated trace is an error.
#include <gtest/gtest.h>

#include <algorithm>

#include "cli_util.hpp"
#include "scenario_util.hpp"
#include "sim/error.hpp"
#include "text_file.hpp"
#include "tools/explore/explore.hpp"

namespace vcpusim::test {
namespace {

using vcpusim::test::write;

// One line on stderr naming the file, then what it says; exit 2; never a simulation or an
// internal error.
void expect_bad(const CliResult& r, const std::string& file, const std::string& says) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(file + ": " + says), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("error:"), std::string::npos) << r.err;
}

// The committed fuzz regression input: an injection for vCPU 7 of a scenario with 2 vCPUs (it
// was a simulation error, exit 3, from the machine that found no such vCPU).
const std::string kOutOfRange = std::string(VCPUSIM_SOURCE_DIR) +
                                "/fuzz/regressions/replay_fuzzer/injection-vcpu-out-of-range.json";

TEST(Replay, OutOfRangeInjectionVcpuExits2) {
  TempDir tmp;
  const std::string says =
      "$.injections[0].vcpu: 7 is out of range; allowed: an integer from 0 to 1";
  expect_bad(run_cli({"run", "--replay", kOutOfRange, "-q"}), kOutOfRange, says);
  expect_bad(run_cli({"shrink", kOutOfRange, "-o", (tmp.path() / "min.json").string()}),
             kOutOfRange, says);
  expect_bad(run_cli({"report", "--diff", kOutOfRange, kOutOfRange, "-o",
                      (tmp.path() / "d.html").string()}),
             kOutOfRange, says);
  expect_bad(run_cli({"timeline", "--diff", kOutOfRange, kOutOfRange}), kOutOfRange, says);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  // In-process too: a ConfigError, before anything runs.
  const tools::ReplayFile r = tools::ReplayFile::load(kOutOfRange);
  EXPECT_THROW(tools::run_replay(r, kOutOfRange), sim::ConfigError);
}

// Errors in a replay's scenario name their path in the replay file, under $.scenario.
TEST(Replay, ScenarioErrorsNameTheirPathInTheReplayFile) {
  TempDir tmp;
  sim::Json j = sim::Json::parse(read_file(kOutOfRange));
  j["scenario"]["vm"]["vcpus"] = 0;
  const fs::path file = tmp.path() / "r.json";
  write(file, j.dump(2));
  expect_bad(run_cli({"run", "--replay", file.string(), "-q"}), file.string(),
             "$.scenario.vm.vcpus: 0 is out of range");
}

// A replay of the scenario's own run, with the fingerprint that run has.
tools::ReplayFile own_run(const std::string& name) {
  auto s = tools::Scenario::load(scenario_path(name));
  tools::ReplayFile r;
  r.scenario = s->resolved();
  r.fingerprint = tools::run_scenario(*s).document["fingerprint"].get<std::string>();
  return r;
}

// Without its fingerprint nothing would check that a replay's run is the recorded one: refused
// by run --replay (unless --no-fingerprint-check) and by the diff commands; an empty or
// malformed fingerprint is refused at $.fingerprint.
TEST(Replay, WithoutFingerprintIsRefused) {
  TempDir tmp;
  const tools::ReplayFile r = own_run("explore/pv-hash-race-unplaced.json");
  const fs::path with = tmp.path() / "with.json", without = tmp.path() / "without.json";
  const fs::path json = tmp.path() / "out.json";
  write(with, r.to_json().dump(2));
  sim::Json j = r.to_json();
  j.erase("fingerprint");
  write(without, j.dump(2));

  EXPECT_EQ(run_cli({"run", "--replay", with.string(), "-q"}).status, 0);
  const CliResult refused =
      run_cli({"run", "--replay", without.string(), "-q", "--json", json.string()});
  expect_bad(refused, without.string(), "$: missing key \"fingerprint\"");
  EXPECT_NE(refused.err.find("--no-fingerprint-check"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(json));
  expect_bad(run_cli({"report", "--diff", with.string(), without.string(), "-o",
                      (tmp.path() / "d.html").string()}),
             without.string(), "$: missing key \"fingerprint\"");
  expect_bad(run_cli({"timeline", "--diff", without.string(), with.string()}), without.string(),
             "$: missing key \"fingerprint\"");

  // Run anyway, when asked to.
  const CliResult anyway = run_cli({"run", "--replay", without.string(), "--no-fingerprint-check",
                                    "-q", "--json", json.string()});
  EXPECT_EQ(anyway.status, 0) << anyway.err;
  EXPECT_EQ(sim::Json::parse(read_file(json))["fingerprint"], r.fingerprint);
  expect_bad(run_cli({"run", scenario_path("vdso-time-backwards.json"), "--no-fingerprint-check"}),
             "--no-fingerprint-check", "allowed: only with --replay");

  for (const char* bad : {"", "0123", "0123456789ABCDEF"}) {
    j["fingerprint"] = bad;
    write(without, j.dump(2));
    expect_bad(run_cli({"run", "--replay", without.string(), "-q"}), without.string(),
               "$.fingerprint: \"" + std::string(bad) + "\" is not a fingerprint");
  }
}

// A trace cut short reads as an error naming the file (it rendered as a complete, shorter run):
// cut between two events, in the middle of one, or just before its closing line.
TEST(TraceView, TruncatedTraceIsAnError) {
  TempDir tmp;
  const fs::path trace = tmp.path() / "t.json", result = tmp.path() / "r.json";
  ASSERT_LE(run_cli({"run", scenario_path("vdso-time-backwards.json"), "-q", "--set",
                     "duration=2ms", "--trace", trace.string(), "--json", result.string()})
                .status,
            1);
  const std::string whole = read_file(trace);
  ASSERT_EQ(whole.substr(whole.size() - 4), "\n]}\n");
  EXPECT_EQ(run_cli({"timeline", trace.string(), "--color", "never"}).status, 0);
  const std::size_t between = whole.find("\n", whole.size() / 2);
  const std::string cuts[] = {whole.substr(0, between), whole.substr(0, between + 1),
                              whole.substr(0, whole.size() / 2),
                              whole.substr(0, whole.size() - 3)};
  const fs::path cut = tmp.path() / "cut.json";
  const std::string says = "$: the trace is truncated";
  for (const std::string& text : cuts) {
    SCOPED_TRACE(text.substr(text.size() - std::min<std::size_t>(text.size(), 40)));
    write(cut, text);
    expect_bad(run_cli({"timeline", cut.string(), "--color", "never"}), cut.string(), says);
    expect_bad(run_cli({"report", result.string(), "--trace", cut.string(), "-o",
                        (tmp.path() / "o.html").string()}),
               cut.string(), says);
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "o.html"));
}

}  // namespace
}  // namespace vcpusim::test
