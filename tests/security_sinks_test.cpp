// Security of the generated scripts and pages (docs/security-checklist.md): no text from an input
// (names, labels, paths, metric names, messages) reaches gnuplot, sh, sbatch, roff/help2man or a
// page's script as code, and none shows raw control or bidi characters. One test per sink, each
// planting strings that try to `touch` a canary file or to open a script.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/config/config.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "sweep_util.hpp"
#include "tools/explore/report_diff.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/schedule.hpp"
#include "tools/sweep/slurm.hpp"
#include "tools/sweep/sweep_html.hpp"
#include "tools/sweep/sweep_plots.hpp"
#include "tools/sweep/sweep_report.hpp"
#include "tools/view/html_text.hpp"
#include "tools/view/report.hpp"
#include "tools/view/report_timeline.hpp"
#include "tools/view/trace_view.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using sim::Json;
using test::run_vcpusim;
using test::slurp;
using test::TempDir;

namespace {

const std::string kSource = VCPUSIM_SOURCE_DIR;

// Strings that each try to make another program run `touch CANARY-n`, or a page run a script.
std::vector<std::string> attacks(const std::string& canary) {
  const std::string c = canary;
  return {
      "t\n!touch " + c + "-1\n#",                    // a gnuplot shell line after a newline
      "t\r!touch " + c + "-2\r#",                    // ... after a carriage return
      "`touch " + c + "-3`",                         // backquote substitution (gnuplot, sh)
      "x\\\" . system(\"touch " + c + "-4\") . \"",  // a backslash, then leave a "..." string
      "x' . system('touch " + c + "-5') . '",        // leave a '...' string
      "$(touch " + c + "-6) !touch " + c + "-7 @x",  // sh substitution, gnuplot's ! and @macro
      "</script><script>alert(1)</script>\"><img src=x onerror=alert(1)>",
      "\u202e\u2066evil\u2069 \x1b[2J",  // bidi override and isolate, a terminal escape
  };
}

// The attacks a spec accepts as an axis name (no , " = or newline there).
std::vector<std::string> axis_name_attacks(const std::string& canary) {
  std::vector<std::string> out;
  for (const auto& a : attacks(canary))
    if (a.find_first_of(",\"\n=") == std::string::npos) out.push_back(a);
  return out;
}

// Canary files an attack created in `dir` (the attacks name them by absolute path there, or
// relative to `dir` when it is the shell's working directory).
std::vector<std::string> canaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("canary", 0) == 0) out.push_back(e.path().string());
  return out;
}

// `text` holds no raw C0 control (but line breaks and tabs), DEL, C1 or bidi override/isolate:
// sim::printable leaves it as it is.
::testing::AssertionResult shows_no_control(const std::string& text) {
  std::string t;
  for (char c : text)
    if (c != '\n' && c != '\t') t += c;
  if (sim::printable(t) == t) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "raw control or bidi characters in: " << sim::printable(t).substr(0, 2000);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int shell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A resolved sweep (what sweep.json holds, as a merge reads it from a shard) with `a` in every
// text field gnuplot and the page show, and two points plotted against it.
Json hostile_plan(const std::string& a) {
  return {{"name", a},
          {"description", a},
          {"scenario", a},
          {"seeds", {1}},
          {"axes", {{{"name", a}, {"unit", a}}, {{"name", a + "2"}, {"unit", ""}}}},
          {"checks", {"monotonic_time"}},
          {"metrics", {a}},
          {"plots", {a}},
          {"model", a},
          {"points", {{{"index", 0}, {"set", {a}}}, {{"index", 1}, {"set", {"x=" + a}}}}}};
}

std::vector<tools::PointSummary> hostile_points(const std::string& a) {
  std::vector<tools::PointSummary> out(2);
  for (std::size_t i = 0; i < 2; ++i) {
    tools::PointSummary& p = out[i];
    p.index = i;
    p.labels = {a + std::to_string(i), a};
    p.x = {std::nullopt, std::nullopt};
    p.runs = 4;
    p.violating_runs["monotonic_time"] = i + 1;
    p.violation["monotonic_time"] = tools::wilson95(i + 1, 4);
    p.metrics[a] = tools::describe_samples({1.0 + static_cast<double>(i), 2, 3});
    p.predicted = 0.25 * static_cast<double>(i + 1);
  }
  return out;
}

// Runs `vcpusim ARGS` through sh; its stdout, stderr and exit status.
struct Cli {
  int status = -1;
  std::string out, err;
};
Cli vcpusim_cli(const TempDir& t, const std::vector<std::string>& args) {
  std::string cmd = quote(VCPUSIM_BINARY);
  for (const auto& a : args) cmd += " " + quote(a);
  Cli r;
  r.status =
      shell(cmd + " >" + quote(t / "cli.out") + " 2>" + quote(t / "cli.err") + " </dev/null");
  r.out = slurp(t / "cli.out");
  r.err = slurp(t / "cli.err");
  return r;
}

TEST(Security, TerminalEchoEscapesControlAndBidiCharacters) {
  EXPECT_EQ(sim::printable("a\u202ab\u202ec\u2066d\u2069e"), "a\\u202ab\\u202ec\\u2066d\\u2069e");
  EXPECT_EQ(sim::printable("\x1b[2J\n\x7f\u0085"), "\\x1b[2J\\x0a\\x7f\\u0085");
  // Neighbours of the bidi controls, other text and cut sequences stay as they are.
  for (const std::string s :
       {"\u2029\u202f\u2065\u206a", "\u00e9 \u65e5\u672c", "\xe2\x80", "\xe2"})
    EXPECT_EQ(sim::printable(s), s);
  // The scenario name as vcpusim validate echoes it.
  TempDir t;
  Json sc = sim::load_json_file(kSource + "/tests/inputs/escape-name.json");
  sc["name"] = "\u202eevil\u2066x\u2069\x1b[2J";
  std::ofstream(t / "s.json") << sc.dump();
  const Cli r = vcpusim_cli(t, {"validate", t / "s.json"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"\\u202eevil\\u2066x\\u2069\\x1b[2J\""), std::string::npos) << r.out;
  EXPECT_TRUE(shows_no_control(r.out));
  // The violation check and message of a trace as vcpusim timeline echoes them.
  const Cli run =
      vcpusim_cli(t, {"run", t / "s.json", "--set", "duration=40ms", "--trace", t / "trace.json"});
  ASSERT_EQ(run.status, 0) << run.err;  // its expected violation found
  Json trace = Json::parse(slurp(t / "trace.json"));
  int planted = 0;
  for (auto& e : trace["traceEvents"])
    if (e.value("cat", "") == "violation") {
      e["args"]["check"] = "\u202echeck\x1b[2J";
      e["args"]["message"] = "\u2066message\x07\u2069";
      ++planted;
    }
  ASSERT_GT(planted, 0);
  std::ofstream(t / "trace.json") << trace.dump();
  const Cli timeline = vcpusim_cli(t, {"timeline", t / "trace.json", "--around-violation", "0"});
  EXPECT_EQ(timeline.status, 0) << timeline.err;
  EXPECT_NE(timeline.out.find("\\u202echeck\\x1b[2J: \\u2066message\\x07\\u2069"),
            std::string::npos)
      << timeline.out;
  EXPECT_TRUE(shows_no_control(timeline.out));
}

TEST(Security, HtmlEscapeLeavesNoMarkupControlOrBidiCharacter) {
  EXPECT_EQ(tools::html_escape("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(tools::html_escape(std::string("a\u202eb\x1b") + '\0' + "c"), "a\\u202eb\\x1b\\x00c");
  EXPECT_EQ(tools::html_escape("line\n\tnext"), "line\n\tnext");  // <pre> blocks keep them
  for (const auto& a : attacks("/tmp/canary")) {
    const std::string h = tools::html_escape(a);
    EXPECT_EQ(h.find_first_of("<>\"'"), std::string::npos) << h;
    EXPECT_TRUE(shows_no_control(h));
  }
}

// sweep_plots.cpp: every text of the plan (name, axis names and units, point labels, metric and
// model names) is in the .gp scripts gnuplot runs; none runs a command, every plot is drawn.
TEST(Security, GnuplotScriptGetsNoCommandFromASweepName) {
  TempDir t;
  for (const auto& a : attacks(t / "canary")) {
    const std::string dir = t / "sweep";
    std::string warnings;
    const auto plots = tools::write_plots(dir, hostile_plan(a), hostile_points(a), warnings);
    EXPECT_EQ(warnings, "") << sim::printable(a);
    ASSERT_EQ(plots.size(), 2u);  // the check's violation probability and the metric
    for (const auto& p : plots) {
      EXPECT_TRUE(p.drawn) << sim::printable(a);
      const std::string svg = slurp(fs::path(dir) / p.svg);
      EXPECT_NE(svg.find("</svg>"), std::string::npos);
      EXPECT_EQ(svg.find("<script"), std::string::npos);
      EXPECT_EQ(svg.find("<img"), std::string::npos);
      EXPECT_TRUE(shows_no_control(svg));
      const std::string gp = slurp(fs::path(dir) / (p.svg.substr(0, p.svg.size() - 4) + ".gp"));
      EXPECT_TRUE(shows_no_control(gp));
      EXPECT_EQ(gp.find('"' + a), std::string::npos);  // no input text in a "..." string
    }
    fs::remove_all(dir);
  }
  EXPECT_EQ(canaries(t.path()), std::vector<std::string>{});
}

// The real `vcpusim sweep` on a spec whose name, axis names, unit, point labels and plotted
// metric each try to run a command: none runs, the plots with data are drawn.
TEST(Security, SweepSpecRunsNoCommandThroughItsPlots) {
  TempDir t;
  const auto names = attacks(t / "canary-name");
  const auto axes = axis_name_attacks(t / "canary-axis");
  Json values = Json::array();
  for (const auto& l : attacks(t / "canary-label"))
    values.push_back({{"value", l}, {"set", {{"guest.timekeeping.variant", "split-publish"}}}});
  const std::string metric = attacks(t / "canary-metric")[2];
  Json spec = {
      {"name", names[0]},
      {"description", names[6]},
      {"scenario", kSource + "/scenarios/vdso-time-backwards.json"},
      {"set", {{"duration", "5ms"}}},
      {"axes",
       {{{"name", axes[0]}, {"unit", names[2]}, {"points", values}},
        {{"name", axes[1]},
         {"points", {{{"value", names[4]}, {"set", {{"guest.timekeeping.ntp.schedule[0].ppm", 500}}}}}}}}},
      {"seeds", 1},
      {"metrics", {"timekeeping.updates", metric}},
      {"plots", {"timekeeping.updates", metric}}};
  // A metric name nothing declares is refused before any run (the attack never reaches a plot
  // script), its echo in the message escaped.
  std::ofstream(t / "spec.json") << spec.dump(1);
  const auto refused = run_vcpusim({"sweep", t / "spec.json", "-o", t / "out"}, t / "bad.log");
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_TRUE(shows_no_control(refused.err)) << refused.err;
  EXPECT_FALSE(fs::exists(t / "out"));
  // Every other input text (names, axes, labels, units) reaches the plots of a declared metric.
  spec["metrics"] = {"timekeeping.updates"};
  spec["plots"] = {"timekeeping.updates"};
  std::ofstream(t / "spec.json") << spec.dump(1);
  const auto e = run_vcpusim({"sweep", t / "spec.json", "-o", t / "out"}, t / "sweep.log");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(canaries(t.path()), std::vector<std::string>{});
  for (const char* svg : {"violations-monotonic_time.svg", "metric-timekeeping_updates.svg"})
    EXPECT_NE(slurp(t / ("out/plots/" + std::string(svg))).find("</svg>"), std::string::npos)
        << svg;
  EXPECT_TRUE(shows_no_control(e.err));
  const std::string html = slurp(t / "out/index.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_TRUE(shows_no_control(html));
}

// runs.csv and summary.csv: a label, axis name or error message that a spreadsheet would read as
// a formula (=, +, -, @ first) is text there; a number that starts with - or + stays a number.
TEST(Security, CsvCellsStartNoSpreadsheetFormula) {
  TempDir t;
  const std::vector<std::string> formulas = {"=HYPERLINK(\"http://x\";\"y\")", "+cmd|' /C calc'!A0",
                                             "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"};
  Json values = Json::array();
  for (const auto& l : formulas) values.push_back({{"value", l}, {"set", Json::object()}});
  values.push_back({{"value", "-5"}, {"set", Json::object()}});
  const Json spec = {{"name", "csv"},
                     {"scenario", kSource + "/scenarios/vdso-time-backwards.json"},
                     {"set", {{"duration", "2ms"}}},
                     {"axes", {{{"name", "@axis()"}, {"points", values}}}},
                     {"seeds", 1}};
  std::ofstream(t / "spec.json") << spec.dump(1);
  const auto e = run_vcpusim({"sweep", t / "spec.json", "-o", t / "out"}, t / "sweep.log");
  ASSERT_EQ(e.code, 0) << e.err;
  for (const char* csv : {"runs.csv", "summary.csv"}) {
    const std::string text = slurp(t / ("out/" + std::string(csv)));
    for (const auto& l : formulas) {
      EXPECT_EQ(text.find("," + l), std::string::npos) << csv << ": " << l;
      EXPECT_EQ(text.find(",\"" + l), std::string::npos) << csv << ": " << l;
    }
    EXPECT_EQ(text.find(",@axis()"), std::string::npos) << csv;
    EXPECT_NE(text.find("\"'@axis()\""), std::string::npos) << csv << ": shown as text";
    EXPECT_NE(text.find("\"'=HYPERLINK("), std::string::npos) << csv << ": shown as text";
    EXPECT_NE(text.find(",-5,"), std::string::npos) << csv << ": the number -5 stays a number";
  }
}

// `sweep merge` renders the plots of the first shard's sweep.json: a name, axis name and labels
// edited there (not part of the runs' identity) run nothing on the merging machine.
TEST(Security, SweepMergeRunsNoCommandFromAnEditedShardSpec) {
  TempDir t;
  Json small = Json::parse(slurp(test::sweep_spec("small.json")));
  small["scenario"] = kSource + "/scenarios/vdso-time-backwards.json";
  small["set"]["duration"] = "5ms";
  small["seeds"] = 1;
  std::ofstream(t / "small.json") << small.dump(1);
  for (const char* shard : {"0", "1"}) {
    const std::string dir = t / ("shard" + std::string(shard));
    const auto e = run_vcpusim(
        {"sweep", t / "small.json", "-o", dir, "--shard", std::string(shard) + "/2"}, dir + ".log");
    ASSERT_EQ(e.code, 0) << e.err;
  }
  const std::string file = t / "shard0/sweep.json";
  Json plan = Json::parse(slurp(file));
  plan["name"] = attacks(t / "canary-name")[0];
  plan["axes"][1]["name"] = axis_name_attacks(t / "canary-axis")[1];
  for (auto& p : plan["points"])
    p["labels"][1] = attacks(t / "canary-label")[2] + p["labels"][1].get<std::string>();
  std::ofstream(file) << plan.dump(1);
  const auto e = run_vcpusim({"sweep", "merge", "-o", t / "merged", t / "shard0", t / "shard1"},
                             t / "merge.log");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(canaries(t.path()), std::vector<std::string>{});
  const std::string svg = slurp(t / "merged/plots/violations-monotonic_time.svg");
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("!touch"), std::string::npos);  // the name is shown, as text
}

// sweep_html.cpp: names, labels, paths and the re-run commands are element text only.
TEST(Security, SweepPageGetsNoScriptFromNamesLabelsOrPaths) {
  for (const auto& a : attacks("/tmp/canary")) {
    const Json plan = hostile_plan(a);
    const std::vector<tools::PlotFile> plots = {{a, "plots/" + a + ".svg", false, ""}};
    const std::string html =
        tools::render_sweep_html("/nonexistent", plan, hostile_points(a), {a}, plots);
    EXPECT_EQ(html.find("<script"), std::string::npos) << html;
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(
        count(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"),
        1u);
    EXPECT_TRUE(shows_no_control(html));
  }
  // The re-run command of a point shows its --set shell-quoted.
  const auto a = attacks("/tmp/canary")[5];
  const std::string html =
      tools::render_sweep_html("/nonexistent", hostile_plan(a), hostile_points(a), {a}, {});
  EXPECT_NE(html.find(tools::html_escape(" --set " + tools::shell_quote(a))), std::string::npos);
}

// report.cpp and report_timeline.cpp: a result file and a trace with hostile names, messages,
// metric keys and expectations; the page's own script is the only one.
TEST(Security, ReportPageGetsNoScriptFromAResultOrTrace) {
  for (const auto& a : attacks("/tmp/canary")) {
    const Json result = {
        {"scenario", {{"name", a}, {"description", a}}},
        {"seed", 1},
        {"fingerprint", a},
        {"events", 3},
        {"expect_met", false},
        {"expect_unmet", {a}},
        {"violation_counts", {{a, 1}}},
        {"metrics", {{a, 1}, {"x", {{a, 2}}}}},
        {"violations", {{{"time_ns", 5}, {"check", a}, {"message", a}, {"cpus", {0}}}}}};
    const std::string html = tools::render_report(result.dump(), "", a, a);
    EXPECT_EQ(count(html, "<script"), 1u) << html;
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_TRUE(shows_no_control(html));

    tools::TraceView v;
    v.title = a;
    v.end = 1000 * sim::kNanosecond;
    tools::ViewLane lane;
    lane.name = a;
    lane.slices.push_back({0, 500 * sim::kNanosecond, 0, a, a});
    lane.reads.push_back({10, 10, 1, a});
    v.lanes.push_back(lane);
    v.spans.push_back({0, 100 * sim::kNanosecond, a, "seqcount", 0});
    v.spans.push_back({0, 100 * sim::kNanosecond, a, "lock", 0});
    v.violations.push_back({10, a, a, {{"message", a}}});
    const std::string svg = tools::render_timeline_svg(v);
    EXPECT_EQ(svg.find("<script"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("<img"), std::string::npos);
    EXPECT_TRUE(shows_no_control(svg));
  }
}

// report_diff.cpp: replay files whose names and origin are hostile, on the page (which has a
// Content-Security-Policy like the report's) and in the terminal diff.
TEST(Security, DiffPageAndTerminalGetNoScriptOrControlFromReplayFiles) {
  TempDir t;
  const auto a = attacks(t / "canary");
  tools::ReplayFile r;
  const auto scenario =
      tools::Scenario::load(kSource + "/tests/inputs/escape-name.json", {"duration=2ms"});
  r.scenario = scenario->resolved();
  // A replay carries the fingerprint its run reproduces (the diffs require one).
  r.fingerprint = tools::run_scenario(*scenario).document["fingerprint"].get<std::string>();
  r.origin = a[6] + a[7];
  const std::string passing = t / "p<img src=x onerror=alert(1)>.json";
  const std::string failing = t / (a[7] + "\n.json");
  for (const auto& f : {passing, failing}) std::ofstream(f) << r.to_json().dump();
  const tools::RunDiff d = tools::diff_replays(passing, failing);
  const std::string html = tools::render_diff_html(d);
  EXPECT_EQ(count(html, "<script"), 1u) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(count(html, "Content-Security-Policy\" content=\"default-src 'none'"), 1u);
  EXPECT_TRUE(shows_no_control(html));
  const std::string text = tools::render_diff_timeline(d, 80);
  EXPECT_TRUE(shows_no_control(text));
  EXPECT_NE(text.find(sim::printable(failing)), std::string::npos) << text;
}

// slurm.cpp: paths with quotes, substitutions, a newline and sbatch's % patterns arrive at
// vcpusim and sbatch as the same bytes; a #SBATCH value that could start a line is refused.
TEST(Security, SlurmScriptsPassHostilePathsAsPlainArguments) {
  TempDir t;
  // Relative canaries: the scripts run with `t` as their working directory.
  const std::string dir = t / "out 'q' $(touch canary-1) `touch canary-2` %j\nnl \\ !x";
  const std::string spec = t / "spec $(touch canary-3).json";
  fs::create_directories(t / "bin");
  fs::create_directories(t / "args");
  // Stand-ins for vcpusim and sbatch: each writes its arguments (NUL-separated) to a new file.
  const std::string record =
      "#!/bin/sh\nn=$(ls \"$ARGS\" | wc -l)\nprintf '%s\\0' \"$@\" >\"$ARGS/$n\"\n";
  std::ofstream(t / "bin/vcpusim") << record;
  std::ofstream(t / "bin/sbatch") << record << "echo 42\n";
  for (const char* f : {"bin/vcpusim", "bin/sbatch"}) fs::permissions(t / f, fs::perms::owner_all);
  tools::SlurmOptions o;
  o.self = t / "bin/vcpusim";
  o.spec = spec;
  o.dir = dir;
  o.array_size = 2;
  const std::string submit = tools::write_slurm_scripts(o);
  const std::string env = "cd " + quote(t.path()) + " && ARGS=" + quote(t / "args") +
                          " PATH=" + quote(t / "bin") + ":\"$PATH\" ";
  for (const char* f : {"shard.sbatch", "merge.sbatch", "submit.sh"})
    EXPECT_EQ(shell("sh -n " + quote(dir + "/slurm/" + f)), 0) << f;
  EXPECT_EQ(shell(env + "SLURM_ARRAY_TASK_ID=1 sh " + quote(dir + "/slurm/shard.sbatch")), 0);
  EXPECT_EQ(shell(env + "sh " + quote(dir + "/slurm/merge.sbatch")), 0);
  EXPECT_EQ(shell(env + "sh " + quote(submit) + " >/dev/null"), 0);
  auto args = [&t](int n) {
    std::vector<std::string> out;
    std::string s = slurp(t / ("args/" + std::to_string(n)));
    for (std::size_t at = 0, end; (end = s.find('\0', at)) != std::string::npos; at = end + 1)
      out.push_back(s.substr(at, end - at));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(args(0), (V{"sweep", spec, "-j", "1", "-o", dir + "/shards/1", "--shard", "1/2"}));
  EXPECT_EQ(args(1), (V{"sweep", "merge", "-o", dir, dir + "/shards/0", dir + "/shards/1"}));
  std::string logs;  // sbatch reads %j, %a, ... in --output: the directory's own % doubled
  for (char c : dir) logs += c == '%' ? std::string("%%") : std::string(1, c);
  EXPECT_EQ(args(2), (V{"--parsable", "--chdir=" + dir, "--output=" + logs + "/slurm/shard-%a.out",
                        dir + "/slurm/shard.sbatch"}));
  EXPECT_EQ(args(3), (V{"--parsable", "--chdir=" + dir, "--output=" + logs + "/slurm/merge.out",
                        "--dependency=afterany:42", dir + "/slurm/merge.sbatch"}));
  EXPECT_EQ(canaries(t.path()), std::vector<std::string>{});

  o.partition = "debug\ntouch " + (t / "canary-4");
  EXPECT_THROW(tools::write_slurm_scripts(o), sim::ConfigError);
  const Cli r = vcpusim_cli(t, {"sweep", "slurm", test::sweep_spec("small.json"), "-o", t / "o2",
                                "--partition", o.partition});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_FALSE(fs::exists(t / "o2/slurm/shard.sbatch"));
}

// make_man.sh: help text lines that roff would run as requests (.sy, 'sy, .so) or help2man would
// read as include sections or patterns stay text; rendered in groff's unsafe mode, none runs.
TEST(Security, ManPageGetsNoRequestFromHelpText) {
  if (shell("command -v help2man >/dev/null && command -v groff >/dev/null") != 0)
    GTEST_SKIP() << "help2man or groff is not installed (tools/scripts/setup.sh --tests)";
  TempDir t;
  const std::string canary = t / "canary";
  std::ofstream(t / "fake") << "#!/bin/sh\ncase \"$1\" in\n"
                               "  --help) printf 'Usage: fake COMMAND\\n\\nA fake vcpusim.\\n' ;;\n"
                               "  --version) echo 'fake 1.0' ;;\n"
                               "  *) printf '%s\\n' \"usage: fake $1\" '.sy touch "
                            << canary << "-1' \"'sy touch " << canary
                            << "-2\" '[NAME]' '/usage/' '\\fBbold\\fR' '.so /etc/hostname' ;;\n"
                               "esac\n";
  fs::permissions(t / "fake", fs::perms::owner_all);
  ASSERT_EQ(shell("bash " + quote(kSource + "/tools/scripts/make_man.sh") + " " + quote(t / "fake") + " " +
                  quote(t / "fake.1.gz")),
            0);
  ASSERT_EQ(shell("gzip -dc " + quote(t / "fake.1.gz") + " >" + quote(t / "fake.1")), 0);
  const std::string page = slurp(t / "fake.1");
  for (const char* line : {"\n.sy", "\n'sy", "\n.so"})
    EXPECT_EQ(page.find(line), std::string::npos) << line << " in\n" << page;
  for (const char* line : {"\n\\&.sy", "\n\\&'sy", "\n\\&.so", "\n\\&[NAME]", "\n\\&/usage/"})
    EXPECT_NE(page.find(line), std::string::npos) << line << " in\n" << page;
  EXPECT_NE(page.find("deterministic simulator"), std::string::npos);  // NAME kept
  ASSERT_EQ(shell("groff -U -man -Tutf8 " + quote(t / "fake.1") + " >" + quote(t / "fake.txt") +
                  " 2>/dev/null"),
            0);
  EXPECT_EQ(canaries(t.path()), std::vector<std::string>{});
  const std::string text = slurp(t / "fake.txt");
  EXPECT_NE(text.find(".sy touch"), std::string::npos) << text;
  EXPECT_NE(text.find("\\fBbold\\fR"), std::string::npos) << text;
}

}  // namespace
