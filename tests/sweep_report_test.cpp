// Issue 26, a sweep's report: log-scaled x axes and y in the metric's unit, intervals that stay in
// a metric's range, the requested plots first with unique element ids, one number format, and a
// warning where a closed form's assumption fails. Runs are fabricated records (no simulation),
// except where the sweep's own output is the point.
#include "tools/sweep/sweep_report.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "sweep_util.hpp"
#include "text_file.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_plots.hpp"
#include "tools/sweep/sweep_spec.hpp"
#include "tools/sweep/sweep_stats.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using nlohmann::json;
using test::run_vcpusim_out;
using test::slurp;
using test::sweep_spec;
using test::TempDir;
using test::write;

namespace {

const std::string kScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/vdso-time-backwards.json";
const std::string kLatency = "reader_latency_ns.vdso.max";

// Successful records for every run of `plan`: `latency(run)` as the latency metric, no
// violations.
std::map<std::size_t, tools::RunRecord> records(const json& plan,
                                                const std::function<double(std::size_t)>& latency) {
  std::map<std::size_t, tools::RunRecord> out;
  for (std::size_t run = 0; run < tools::plan_runs(plan); ++run) {
    tools::RunRecord r = tools::new_record(plan, run);
    r.status = "met";
    r.metrics[kLatency] = latency(run);
    r.metrics["timekeeping.updates"] = 10;
    for (const auto& c : plan.at("checks")) r.violations[c.get<std::string>()] = 0;
    out[run] = r;
  }
  return out;
}

// The plan of a one-axis spec over the reader's think time.
json think_plan(const TempDir& t, const json& axis_extra) {
  json axis = {{"name", "think"}, {"path", "guest.workloads[1].think"}};
  axis.update(axis_extra);
  const json spec = {{"name", "think"},
                     {"scenario", kScenario},
                     {"set", {{"duration", "10ms"}}},
                     {"axes", {axis}},
                     {"seeds", 2},
                     {"metrics", {kLatency}},
                     {"plots", {kLatency}}};
  write(t / "think.json", spec.dump());
  return tools::SweepSpec::load(t / "think.json").resolved();
}

std::string metric_script(const TempDir& t, const json& plan, double latency) {
  const auto points = tools::summarize_points(
      plan, records(plan, [&](std::size_t) { return latency; }), {kLatency});
  std::string warnings;
  fs::create_directories(t / "out");
  tools::write_plots(t / "out", plan, points, warnings);
  return slurp(t / "out/plots/metric-reader_latency_ns_vdso_max.gp");
}

TEST(SweepAxes, LogSpacedXIsALogScaleAndNanosecondsAreShownInMicroOrMilliseconds) {
  EXPECT_TRUE(tools::log_spaced({1, 10, 100}));
  EXPECT_TRUE(tools::log_spaced({1, 2, 4, 8, 16}));
  EXPECT_TRUE(tools::log_spaced({100, 300, 1000, 3000}));  // 1-3-10 within 15%
  EXPECT_FALSE(tools::log_spaced({1, 2, 3, 4}));
  EXPECT_FALSE(tools::log_spaced({1, 10}));      // two values show no spacing
  EXPECT_FALSE(tools::log_spaced({1, 10, 20}));  // ratios 10 and 2
  EXPECT_FALSE(tools::log_spaced({0, 10, 100}));
  TempDir t;
  json plan = think_plan(t, {{"values", {"200ns", "2us", "20us", "200us"}}});
  EXPECT_EQ(plan.at("axes").at(0).at("scale"), "log");
  std::string gp = metric_script(t, plan, 4500);
  EXPECT_NE(gp.find("set logscale x\n"), std::string::npos) << gp;
  EXPECT_NE(gp.find("set ylabel 'reader_latency_ns.vdso.max (us)'"), std::string::npos) << gp;
  EXPECT_NE(gp.find("\n0.2 4.5 4.5 4.5\n"), std::string::npos) << gp;  // x in us, y in us
  gp = metric_script(t, plan, 2.5e6);
  EXPECT_NE(gp.find("set ylabel 'reader_latency_ns.vdso.max (ms)'"), std::string::npos) << gp;
  EXPECT_NE(gp.find("\n0.2 2.5 2.5 2.5\n"), std::string::npos) << gp;
  gp = metric_script(t, plan, 450);
  EXPECT_NE(gp.find("set ylabel 'reader_latency_ns.vdso.max (ns)'"), std::string::npos) << gp;
  // Evenly spaced values, or the spec's explicit choice, stay linear.
  plan = think_plan(t, {{"values", {"1us", "2us", "3us"}}});
  EXPECT_EQ(plan.at("axes").at(0).at("scale"), "linear");
  EXPECT_EQ(metric_script(t, plan, 4500).find("logscale"), std::string::npos);
  plan = think_plan(t, {{"values", {"200ns", "2us", "20us"}}, {"scale", "linear"}});
  EXPECT_EQ(metric_script(t, plan, 4500).find("logscale"), std::string::npos);
  plan = think_plan(t, {{"log", {{"from", "1us"}, {"to", "9us"}, {"count", 3}}}});
  EXPECT_EQ(plan.at("axes").at(0).at("scale"), "log");
}

TEST(SweepIntervals, NonNegativeMetricWithALargeOutlierGetsANonNegativeBoundAndItsMethod) {
  const std::vector<double> v = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1000};
  const auto s = tools::describe_samples(v, 42);
  EXPECT_LT(s.mean - s.ci95, 0) << "the symmetric Student-t interval goes below zero";
  EXPECT_GE(s.lo95, 0);
  EXPECT_LE(s.lo95, s.mean);
  EXPECT_GE(s.hi95, s.mean);
  EXPECT_LE(s.hi95, 1000);
  const auto again = tools::describe_samples(v, 42);
  EXPECT_EQ(again.lo95, s.lo95);  // its own RNG: the same seed, the same interval
  EXPECT_EQ(again.hi95, s.hi95);
  // In summary.csv: the bounds and the method, seeded by the runs' ids.
  TempDir t;
  const json plan = think_plan(t, {{"values", {"1us", "2us"}}});
  const auto recs = records(plan, [](std::size_t run) { return run % 2 ? 0.0 : 1e6; });
  const std::vector<std::string> metrics = {kLatency};
  const std::string csv =
      tools::summary_csv(plan, tools::summarize_points(plan, recs, metrics), metrics);
  EXPECT_EQ(csv.rfind("point,think,runs,failed,missing,reader_latency_ns.vdso.max.mean,"
                      "reader_latency_ns.vdso.max.lo95,reader_latency_ns.vdso.max.hi95,"
                      "reader_latency_ns.vdso.max.ci95_method,reader_latency_ns.vdso.max.p50,"
                      "reader_latency_ns.vdso.max.p99,reader_latency_ns.vdso.max.max,",
                      0),
            0u)
      << csv;
  EXPECT_NE(csv.find("\n0,1us,2,0,0,500000,0,1000000,percentile-bootstrap-2000,0,1000000,1000000,"),
            std::string::npos)
      << csv;
  EXPECT_EQ(csv, tools::summary_csv(plan, tools::summarize_points(plan, recs, metrics), metrics));
}

TEST(SweepPage, RequestedPlotsComeFirstAndNoElementIdRepeats) {
  TempDir t;
  const json plan = tools::SweepSpec::load(sweep_spec("small.json")).resolved();
  const std::string dir = tools::claim_sweep_dir(t / "o", {});
  tools::write_file_durably(dir + "/sweep.json", plan.dump(2));
  const std::string warnings = tools::write_sweep_outputs(
      dir, plan, records(plan, [](std::size_t run) { return 1000.0 + run; }));
  ASSERT_EQ(warnings, "");
  const std::string html = slurp(dir + "/index.html");
  // The spec's plot first, the violation probability no run has after it.
  const auto requested = html.find("<h3>reader_latency_ns.vdso.max (mean, 95% interval)</h3>");
  const auto zero = html.find("<h3>probability of a monotonic_time violation per run</h3>");
  ASSERT_NE(requested, std::string::npos);
  ASSERT_NE(zero, std::string::npos);
  EXPECT_LT(requested, zero);
  std::size_t svgs = 0;
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 2u);
  // Every element id once, and every local reference to one that exists.
  const std::regex id_re(R"re(\sid\s*=\s*(?:"([^"]*)"|'([^']*)'))re");
  const std::regex ref_re(R"re((?:href\s*=\s*["']#|url\(#)([^"')]*))re");
  std::map<std::string, int> ids;
  for (std::sregex_iterator it(html.begin(), html.end(), id_re), end; it != end; ++it)
    ++ids[(*it)[1].matched ? (*it)[1].str() : (*it)[2].str()];
  EXPECT_GT(ids.size(), 20u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << "id " << id << " appears " << n << " times";
  for (std::sregex_iterator it(html.begin(), html.end(), ref_re), end; it != end; ++it)
    EXPECT_TRUE(ids.count((*it)[1].str())) << "#" << (*it)[1].str() << " names no element";
}

TEST(SweepNumbers, OneFixedNotationPerColumnNeverAnExponent) {
  EXPECT_EQ(tools::format_number(8854460.7), "8854461");
  EXPECT_EQ(tools::format_number(9001305), "9001305");
  EXPECT_EQ(tools::format_number(1.5e-7), "0.00000015");
  EXPECT_EQ(tools::format_number(0.000123456789), "0.000123457");
  EXPECT_EQ(tools::format_number(123.456789), "123.457");
  EXPECT_EQ(tools::format_number(-2.5), "-2.5");
  EXPECT_EQ(tools::format_number(9.9999996), "10");
  EXPECT_EQ(tools::format_number(1e20), "100000000000000000000");
  EXPECT_EQ(tools::format_number(-1e-12), "-0.000000000001");
  // summary.csv of runs whose means were 8.85446e+06 next to 9001305: no cell with an exponent.
  TempDir t;
  const json plan = think_plan(t, {{"values", {"1us", "2us", "4us"}}});
  const auto recs = records(plan, [](std::size_t run) {
    return run == 0 ? 8854460.3 : run == 1 ? 8854461.4 : run < 4 ? 9001305.0 : 1.5e-7;
  });
  const std::vector<std::string> metrics = {kLatency};
  const std::string csv =
      tools::summary_csv(plan, tools::summarize_points(plan, recs, metrics), metrics);
  EXPECT_NE(csv.find(",8854461,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",9001305,"), std::string::npos) << csv;
  EXPECT_FALSE(std::regex_search(csv, std::regex("[0-9]e[-+]?[0-9]"))) << csv;
  const std::string dir = tools::claim_sweep_dir(t / "o", {});
  tools::write_sweep_outputs(dir, plan, recs);
  EXPECT_FALSE(std::regex_search(slurp(dir + "/index.html"), std::regex("[0-9]e[-+][0-9]")));
}

// The host-load form assumes a load that keeps the pCPU (nice -20); at a nice-0 point it is
// still drawn, with a warning in the sweep's output and next to the plot.
TEST(SweepModel, ClosedFormAssumptionBrokenAtAPointIsWarnedOnStdoutAndThePage) {
  TempDir t;
  json spec = json::parse(slurp(sweep_spec("vdso-host-load-reduced.json")));
  spec["scenario"] = kScenario;
  spec["seeds"] = 1;
  spec["set"]["duration"] = "20ms";
  spec["axes"][0]["points"][0]["set"]["duration"] = "20ms";
  spec["axes"][0]["points"][1]["set"]["host.load"][0]["nice"] = 0;
  write(t / "nice0.json", spec.dump());
  const std::string expected =
      "sweep: warning: closed form drawn where its assumption fails, at points 1 "
      "(host_load=50): the vdso-preemption closed form assumes the load task keeps the pCPU for "
      "its whole busy time (its nice weight at least 10x the vCPU thread's, e.g. nice -20 "
      "against 0); here the load runs at nice 0 against the vCPU's nice 0 (1024 / 1024), so the "
      "fair policy shares the pCPU and the form overestimates\n";
  auto e = run_vcpusim_out({"sweep", t / "nice0.json", "-j", "2", "-o", t / "o"}, t / "o.log",
                           t / "o.out");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find(expected), std::string::npos) << e.out;
  EXPECT_EQ(e.out.find("at points 2"), std::string::npos) << e.out;  // nice -20 holds
  const std::string html = slurp(t / "o/index.html");
  const auto plot = html.find("<h3>probability of a monotonic_time violation per run</h3>\n");
  ASSERT_NE(plot, std::string::npos);
  EXPECT_EQ(html.find("<p class=\"warning\">Warning: the closed form is drawn at points 1, where "
                      "its assumption fails: the vdso-preemption closed form assumes"),
            plot + std::strlen("<h3>probability of a monotonic_time violation per run</h3>\n"))
      << html.substr(plot, 600);
  // Control: the spec as shipped (nice -20 everywhere) warns nowhere.
  spec["axes"][0]["points"][1]["set"]["host.load"][0]["nice"] = -20;
  write(t / "nice20.json", spec.dump());
  e = run_vcpusim_out({"sweep", t / "nice20.json", "--dry-run"}, t / "d.log", t / "d.out");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(e.out.find("warning"), std::string::npos) << e.out;
}

}  // namespace
