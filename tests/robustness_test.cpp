// Issue 13: no crash on any input, outputs that are all-or-nothing, runs that cannot run away.
// The bad-input catalogue of scenario files is bad_input_test.cpp; this file covers the readers,
// the outputs, the runaway guards, the replay of resolved scenarios and escaping.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "fuzz/host_trace_input.hpp"
#include "fuzz/sweep_input.hpp"
#include "scenario_util.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/core/kernel.hpp"
#include "sim/error.hpp"
#include "text_file.hpp"
#include "tools/explore/explore.hpp"
#include "tools/run/run_control.hpp"
#include "tools/view/report.hpp"
#include "tools/view/timeline.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vcpusim::test::CliResult;
using vcpusim::test::read_file;
using vcpusim::test::run_cli;
using vcpusim::test::TempDir;

const std::string kSource = VCPUSIM_SOURCE_DIR;
const std::string kBase = kSource + "/scenarios/vdso-time-backwards.json";

using vcpusim::test::write;

// One line on stderr with the file, the JSON path and the problem; exit 2; nothing on stdout.
void expect_exit2(const CliResult& r, const std::string& file, const std::string& path,
                  const std::string& problem) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(file + ": " + path + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("allowed: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("E549"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

const char* const kTraceHead = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";

struct ReaderCase {
  const char* name;
  const char* command;  // timeline or report
  std::string text;
  std::string path;
  std::string problem;
};

std::vector<ReaderCase> reader_cases() {
  const std::string h = kTraceHead;
  const std::string scenario = "\"scenario\":{\"name\":\"x\"}";
  return {
      {"ts_string", "timeline", h + "{\"ph\":\"B\",\"ts\":\"5\",\"tid\":1}]}",
       "$.traceEvents[0].ts", "\"5\" is a string"},
      {"pid_string", "timeline", h + "{\"ph\":\"B\",\"ts\":5,\"pid\":\"x\"}]}",
       "$.traceEvents[0].pid", "\"x\" is a string"},
      {"metadata_without_args", "timeline", h + "{\"ph\":\"M\",\"name\":\"thread_name\"}]}",
       "$.traceEvents[0]", "metadata without \"args\""},
      {"ts_huge", "timeline", h + "{\"ph\":\"B\",\"ts\":1e300,\"tid\":1}]}", "$.traceEvents[0].ts",
       "is out of range"},
      {"ts_negative", "timeline", h + "{\"ph\":\"i\",\"cat\":\"read\",\"ts\":-4,\"tid\":1}]}",
       "$.traceEvents[0].ts", "is out of range"},
      {"event_not_object", "timeline", h + "7]}", "$.traceEvents[0]", "7 is an integer"},
      {"violation_details_huge", "timeline",
       h + "{\"ph\":\"i\",\"cat\":\"violation\",\"ts\":1,\"args\":{\"details\":{\"end_ns\":1e30}}}]"
           "}",
       "$.traceEvents[0].args.details.end_ns", "is out of range"},
      {"metrics_array", "report", "{\"metrics\":[1]," + scenario + "}", "$.metrics", "is an array"},
      {"scenario_name_number", "report", "{\"metrics\":{},\"scenario\":{\"name\":3}}",
       "$.scenario.name", "3 is an integer"},
      {"violation_time_string", "report",
       "{\"metrics\":{}," + scenario + ",\"violations\":[{\"time_ns\":\"1\"}]}",
       "$.violations[0].time_ns", "\"1\" is a string"},
      {"unmet_not_strings", "report", "{\"metrics\":{}," + scenario + ",\"expect_unmet\":[1]}",
       "$.expect_unmet[0]", "1 is an integer"},
  };
}

void PrintTo(const ReaderCase& c, std::ostream* os) {
  *os << c.name;
}

class ReaderInput : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(ReaderInput, GivesOneMessageAndExit2) {
  const ReaderCase& c = GetParam();
  TempDir tmp;
  const fs::path in = tmp.path() / "input.json";
  write(in, c.text);
  const fs::path out = tmp.path() / "out.html";
  const CliResult r = std::string(c.command) == "report"
                          ? run_cli({"report", in.string(), "-o", out.string()})
                          : run_cli({"timeline", in.string()});
  expect_exit2(r, in.string(), c.path, c.problem);
  EXPECT_FALSE(fs::exists(out));
}

INSTANTIATE_TEST_SUITE_P(Cases, ReaderInput, ::testing::ValuesIn(reader_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// A trace given to report --trace is read by the same checked reader.
TEST(ReaderInput, ReportTraceIsChecked) {
  TempDir tmp;
  const fs::path result = tmp.path() / "r.json", trace = tmp.path() / "t.json";
  write(result, "{\"metrics\":{},\"scenario\":{\"name\":\"x\"}}");
  write(trace, std::string(kTraceHead) + "{\"ph\":\"B\",\"ts\":5,\"tid\":\"one\"}]}");
  const CliResult r = run_cli(
      {"report", result.string(), "--trace", trace.string(), "-o", (tmp.path() / "o").string()});
  expect_exit2(r, trace.string(), "$.traceEvents[0].tid", "\"one\" is a string");
}

TEST(SpecialFiles, FifoIsRefusedWithoutBlocking) {
  TempDir tmp;
  const fs::path fifo = tmp.path() / "fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const char* cmd : {"validate", "timeline"}) {
    const CliResult r = run_cli({cmd, fifo.string()});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  }
}

TEST(CommandLine, NegativeSeedIsRefused) {
  const CliResult r = run_cli({"run", kBase, "--seed", "-1"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--seed \"-1\": is not a seed; allowed: an integer from 0 to "
                       "18446744073709551615"),
            std::string::npos)
      << r.err;
}

TEST(CommandLine, DeepSetPathIsRefusedWithoutACrash) {
  std::string path = "a";
  for (int i = 0; i < 60000; ++i) path += ".a";
  const CliResult r = run_cli({"validate", kBase, "--set", path + "=1"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("PATH is deeper than 100 levels"), std::string::npos) << r.err;
}

TEST(Outputs, AnOutputNamingAnInputOrAnotherOutputIsRefused) {
  TempDir tmp;
  const fs::path scenario = tmp.path() / "s.json";
  fs::copy_file(kBase, scenario);
  const std::string before = read_file(scenario);
  const fs::path link = tmp.path() / "link.json";
  fs::create_symlink(scenario, link);
  const fs::path hard = tmp.path() / "hard.json";
  fs::create_hard_link(scenario, hard);
  for (const fs::path& out : {scenario, link, hard}) {
    const CliResult r = run_cli({"run", scenario.string(), "--quiet", "--json", out.string()});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("names an input of this command"), std::string::npos) << r.err;
  }
  const fs::path same = tmp.path() / "same.json";
  const CliResult r = run_cli({"run", scenario.string(), "--quiet", "--json", same.string(),
                               "--trace", (tmp.path() / "." / "same.json").string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("is also the file of --json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(same));
  EXPECT_EQ(read_file(scenario), before);
  const fs::path result = tmp.path() / "r.json";
  ASSERT_LE(run_cli({"run", scenario.string(), "--quiet", "--set", "duration=1ms", "--json",
                     result.string()})
                .status,
            1);
  const std::string result_text = read_file(result);
  const CliResult rep = run_cli({"report", result.string(), "-o", result.string()});
  EXPECT_EQ(rep.status, 2) << rep.err;
  EXPECT_EQ(read_file(result), result_text);
}

// --trace into a missing directory fails after --json was computed: neither file is written.
TEST(Outputs, AFailingOutputLeavesTheOthersUntouched) {
  TempDir tmp;
  const fs::path json_out = tmp.path() / "r.json";
  write(json_out, "old result\n");
  const CliResult r =
      run_cli({"run", kBase, "--quiet", "--set", "duration=1ms", "--json", json_out.string(),
               "--trace", (tmp.path() / "missing" / "t.json").string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(read_file(json_out), "old result\n");
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(e.path().filename(), "r.json") << "left behind: " << e.path();
}

// The old writer opened OUT.tmp with O_TRUNC: a link planted there overwrote its target.
TEST(Outputs, APlantedLinkIsNeverFollowed) {
  TempDir tmp;
  const fs::path victim = tmp.path() / "victim";
  write(victim, "precious\n");
  const fs::path out = tmp.path() / "r.json";
  fs::create_symlink(victim, tmp.path() / "r.json.tmp");
  ASSERT_LE(
      run_cli({"run", kBase, "--quiet", "--set", "duration=1ms", "--json", out.string()}).status,
      1);
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_TRUE(json::accept(read_file(out)));
  // A symlink at the final name is replaced by the new file (documented), its target untouched.
  const fs::path linked = tmp.path() / "linked.json";
  fs::create_symlink(victim, linked);
  ASSERT_LE(
      run_cli({"run", kBase, "--quiet", "--set", "duration=1ms", "--json", linked.string()}).status,
      1);
  EXPECT_FALSE(fs::is_symlink(linked));
  EXPECT_EQ(read_file(victim), "precious\n");
}

// SIGKILL while the outputs are being written, at many points: the final names hold either the
// old content or the whole new one, never a part.
TEST(Outputs, KilledWhileWritingNeverLeavesAPartialFile) {
  // Every read kept one by one: a trace big enough to be killed in the middle of writing it.
  const std::string kEveryRead = "sched,vcpu,irq,read,timekeeping,violation";
  TempDir tmp;
  const fs::path json_out = tmp.path() / "r.json", trace_out = tmp.path() / "t.json";
  const std::vector<std::string> args = {VCPUSIM_BINARY, "run",
                                         kBase,          "--quiet",
                                         "--set",        "duration=60ms",
                                         "--json",       json_out.string(),
                                         "--trace",      trace_out.string(),
                                         "--trace-kinds", kEveryRead};
  ASSERT_EQ(run_cli({"run", kBase, "--quiet", "--set", "duration=60ms", "--json", json_out.string(),
                     "--trace", trace_out.string(), "--trace-kinds", kEveryRead})
                .status,
            0);
  const std::string full_json = read_file(json_out), full_trace = read_file(trace_out);
  ASSERT_GT(full_trace.size(), 1000000u);
  int killed_mid_write = 0;
  for (int k = 0; k < 12; ++k) {
    write(json_out, "old\n");
    write(trace_out, "old\n");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::freopen("/dev/null", "w", stdout);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // Kill once the trace's temporary file has grown past k/12 of the full trace.
    const std::uintmax_t at = full_trace.size() * static_cast<std::uintmax_t>(k) / 12;
    int status = 0;
    for (bool done = false; !done;) {
      for (const auto& e : fs::directory_iterator(tmp.path())) {
        std::error_code ec;
        const auto name = e.path().filename().string();
        if (name.rfind(".t.json.", 0) == 0 && fs::file_size(e.path(), ec) >= at && !ec) {
          ::kill(pid, SIGKILL);
          ++killed_mid_write;
          done = true;
          break;
        }
      }
      if (!done && ::waitpid(pid, &status, WNOHANG) == pid) {
        done = true;
        status = -1;
      }
      if (!done) ::usleep(200);  // polling the directory, not timing a result
    }
    if (status != -1) ::waitpid(pid, &status, 0);
    const std::string j = read_file(json_out), t = read_file(trace_out);
    EXPECT_TRUE(j == "old\n" || j == full_json) << "kill " << k << ": partial result";
    EXPECT_TRUE(t == "old\n" || t == full_trace) << "kill " << k << ": partial trace";
    for (const auto& e : fs::directory_iterator(tmp.path()))  // a killed run's temp files
      if (e.path().filename().string()[0] == '.') fs::remove(e.path());
  }
  EXPECT_GT(killed_mid_write, 6);
}

// --max-wall stops the run at its first check (a budget already spent) with a partial result.
TEST(Runaway, MaxWallWritesAPartialResultMarkedIncomplete) {
  TempDir tmp;
  const fs::path out = tmp.path() / "r.json";
  const CliResult r =
      run_cli({"run", kBase, "--quiet", "--max-wall", "1ps", "--json", out.string()});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("stopped by --max-wall 1ps"), std::string::npos) << r.err;
  const json doc = json::parse(read_file(out));
  EXPECT_EQ(doc["complete"], false);
  EXPECT_LT(doc["simulated_ns"].get<std::int64_t>(), 250000000);
  EXPECT_NE(doc["expect_unmet"].dump().find("interrupted"), std::string::npos);
  const CliResult full = run_cli({"run", kBase, "--quiet", "--json", out.string()});
  EXPECT_EQ(full.status, 0) << full.err;
  EXPECT_EQ(json::parse(read_file(out))["complete"], true);
}

TEST(Runaway, SigintStopsTheRunThroughThePoll) {
  vcpusim::tools::RunControl control(vcpusim::sim::kSecond, 0, false);
  EXPECT_TRUE(control.poll(0));
  std::raise(SIGINT);
  EXPECT_FALSE(control.poll(1));
  EXPECT_EQ(control.stop_reason(), "SIGINT");
}

TEST(Runaway, ThePollStopsTheKernelWhereItIs) {
  using namespace vcpusim::sim;
  Kernel k;
  std::function<void()> tick = [&] { k.at(k.now() + 10, Phase::kWork, 0, tick); };
  k.at(0, Phase::kWork, 0, tick);
  k.set_poll([](Tick now) { return now < 50000; });
  k.run(kSecond);
  EXPECT_TRUE(k.interrupted());
  EXPECT_GE(k.now(), 50000);
  EXPECT_LT(k.now(), 50000 + 10 * static_cast<Tick>(Kernel::kPollEvents) + 10);
}

TEST(Runaway, EventsWithoutTimePassingAreAHardError) {
  using namespace vcpusim::sim;
  Kernel k;
  std::function<void()> again = [&] { k.at(k.now(), Phase::kWork, 0, again); };
  k.at(7, Phase::kWork, 0, again);
  try {
    k.run(10);
    FAIL() << "expected a stuck-in-time error";
  } catch (const SimError& e) {
    EXPECT_NE(std::string(e.what()).find("the model is stuck in time at 7ps"), std::string::npos)
        << e.what();
  }
}

// A timer_jitter longer than the tick once scheduled a tick in the past (exit 3).
TEST(Runaway, TimerJitterLongerThanTheTickRuns) {
  const CliResult r = run_cli({"run", kBase, "--quiet", "--set", "duration=20ms", "--set",
                               "vm.timer_jitter=1ms", "--set", "guest.timekeeping.hz=10000"});
  EXPECT_LE(r.status, 1) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

// Every catalogue scenario's resolved form (validate --resolved, and the result's "scenario")
// loads again and runs to the same fingerprint: a result can always be replayed.
TEST(RoundTrip, ResolvedScenariosReplayToTheSameFingerprint) {
  for (const auto& name : vcpusim::test::catalogue_files()) {
    SCOPED_TRACE(name);
    TempDir tmp;
    const fs::path resolved = tmp.path() / "resolved.json";
    const CliResult v = run_cli({"validate", vcpusim::test::scenario_path(name), "--resolved"});
    ASSERT_EQ(v.status, 0) << v.err;
    write(resolved, v.out);
    auto original = vcpusim::tools::Scenario::load(vcpusim::test::scenario_path(name));
    auto again = vcpusim::tools::Scenario::load(resolved.string());
    EXPECT_EQ(again->resolved(), original->resolved());
    const auto a = vcpusim::tools::run_scenario(*original);
    const fs::path from_result = tmp.path() / "from-result.json";
    write(from_result, a.document["scenario"].dump());
    const auto b =
        vcpusim::tools::run_scenario(*vcpusim::tools::Scenario::load(from_result.string()));
    EXPECT_EQ(a.document["fingerprint"], b.document["fingerprint"]);
  }
}

// A name with terminal escapes and "$end" is shown escaped and cannot inject VCD declarations.
TEST(Escaping, NamesReachNeitherTheTerminalNorTheVcdRaw) {
  TempDir tmp;
  const std::string file = kSource + "/tests/inputs/escape-name.json";
  const CliResult v = run_cli({"validate", file});
  EXPECT_EQ(v.status, 0) << v.err;
  EXPECT_EQ(v.out.find('\x1b'), std::string::npos) << v.out;
  EXPECT_EQ(v.out.find('\x07'), std::string::npos) << v.out;
  const fs::path vcd = tmp.path() / "o.vcd";
  const CliResult r = run_cli({"run", file, "--set", "duration=1ms", "--vcd", vcd.string()});
  EXPECT_LE(r.status, 1) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_NE(r.out.find("evil\\x1b]0;pwned\\x07"), std::string::npos) << r.out;
  const std::string text = read_file(vcd);
  const std::string comment = text.substr(0, text.find("$timescale"));
  EXPECT_EQ(comment.find("$var"), std::string::npos) << comment;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\x1b'), 0);
}

// Each fuzz target (fuzz/TARGET.cpp) replayed on one input as its harness does: success or
// sim::ConfigError, anything else fails. A new target adds its replay here; its directory
// fuzz/regressions/TARGET/ must then hold at least one input (fuzz/regressions/README.md).
void replay_scenario_fuzzer(const std::string& input) {
  const auto marker = input.find("\n#set\n");
  std::vector<std::string> sets;
  if (marker != std::string::npos) {
    const std::string rest = input.substr(marker + 6);
    for (std::size_t at = 0; at <= rest.size();) {
      const auto eol = std::min(rest.find('\n', at), rest.size());
      sets.push_back(rest.substr(at, eol - at));
      at = eol + 1;
    }
  }
  const auto s = vcpusim::tools::Scenario::from_json(
      vcpusim::sim::parse_json_text(input.substr(0, marker), "fuzz.json"), "fuzz.json", sets);
  // The replay property: a loaded scenario's resolved form loads to the same resolved form.
  const auto resolved = s->resolved();
  const auto again = vcpusim::tools::Scenario::from_json(
      vcpusim::sim::parse_json_text(resolved.dump(2), "resolved.json"), "resolved.json");
  EXPECT_EQ(again->resolved(), resolved) << "the resolved form does not replay";
}

void replay_trace_fuzzer(const std::string& input) {
  vcpusim::tools::TimelineOptions options;
  (void)vcpusim::tools::render_timeline(input, options);
  options.around_violation = 0;
  (void)vcpusim::tools::render_timeline(input, options);
}

void replay_result_fuzzer(const std::string& input) {
  (void)vcpusim::tools::render_report(input, "");
}

void replay_replay_fuzzer(const std::string& input) {
  (void)vcpusim::tools::replay_scenario(vcpusim::tools::ReplayFile::parse(input, "f.json"),
                                        "f.json");
}

void replay_sweep_fuzzer(const std::string& input) {
  vcpusim::fuzz::read_sweep_input(input, kSource);
}

void replay_host_trace_fuzzer(const std::string& input) {
  vcpusim::fuzz::read_host_trace_input(input);
}

const std::map<std::string, void (*)(const std::string&)> kFuzzTargets = {
    {"host_trace_fuzzer", replay_host_trace_fuzzer},
    {"scenario_fuzzer", replay_scenario_fuzzer},
    {"trace_fuzzer", replay_trace_fuzzer},
    {"result_fuzzer", replay_result_fuzzer},
    {"replay_fuzzer", replay_replay_fuzzer},
    {"sweep_fuzzer", replay_sweep_fuzzer},
};

// Every input under fuzz/regressions/TARGET/ (the fuzzers' findings and hand-made inputs on
// their bug-prone paths) is handled; every directory there is a known target, and every known
// target has inputs, so a misnamed or emptied directory fails instead of replaying nothing.
TEST(FuzzRegressions, EveryFindingIsHandled) {
  const fs::path dir = kSource + "/fuzz/regressions";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::map<std::string, std::size_t> replayed;
  for (const auto& target : fs::directory_iterator(dir)) {
    if (!target.is_directory()) continue;  // the README
    const std::string name = target.path().filename().string();
    const auto replay = kFuzzTargets.find(name);
    if (replay == kFuzzTargets.end()) {
      ADD_FAILURE() << target.path() << ": no fuzz target of that name here (kFuzzTargets)";
      continue;
    }
    for (const auto& e : fs::directory_iterator(target.path())) {
      if (!e.is_regular_file()) continue;
      SCOPED_TRACE(e.path().string());
      try {
        replay->second(read_file(e.path()));
      } catch (const vcpusim::sim::ConfigError&) {
      }
      ++replayed[name];
    }
  }
  for (const auto& [name, replay] : kFuzzTargets)
    EXPECT_GE(replayed[name], 1u) << "fuzz/regressions/" << name << "/ holds no input";
}

}  // namespace
