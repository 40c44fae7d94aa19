// Issue 26's views: the report's legend and lanes follow what the run contains, pCPU lanes take
// the colour of the vCPU they run, notable events link to their moment (report) and are drawn
// with `timeline --at`, the diff page has a legend and names the divergence in words, the
// terminal timeline draws vCPU numbers of any width, and the report's metrics are grouped by
// component in their units with the sampled ones drawn as quantile strips.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli_util.hpp"
#include "scenario_util.hpp"
#include "sim/error.hpp"
#include "tools/explore/diff_words.hpp"
#include "tools/run/trace_io.hpp"
#include "tools/view/notable.hpp"
#include "tools/view/report.hpp"
#include "tools/view/report_metrics.hpp"
#include "tools/view/timeline.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::test {
namespace {

std::string chrome(const Traced& t) {
  std::ostringstream out;
  tools::make_trace(*t.scenario, t.result, sim::TraceFilter{}).write_chrome_json(out);
  return out.str();
}

struct Page {
  std::string trace, html;
  nlohmann::json result;
};

// A catalogue run's trace and report (one run per scenario for the whole file); the lock run on
// 3 pCPUs instead of 4 preempts more lock holders (70) than the report lists.
const Page& page(const std::string& scenario) {
  static std::map<std::string, Page> pages;
  auto it = pages.find(scenario);
  if (it == pages.end()) {
    const Traced t = run_traced(scenario, scenario == "lock-holder-preemption.json"
                                              ? std::vector<std::string>{"host.pcpus=3"}
                                              : std::vector<std::string>{});
    Page p;
    p.trace = chrome(t);
    p.html = tools::render_report(t.result.document.dump(), p.trace);
    p.result = t.result.document;
    it = pages.emplace(scenario, std::move(p)).first;
  }
  return it->second;
}

const nlohmann::json& page_result(const std::string& scenario) {
  return page(scenario).result;
}

std::string legend_of(const std::string& html) {
  const auto a = html.find("<div class=\"legend\"");
  if (a == std::string::npos) return "";
  return html.substr(a, html.find("</div>", a) - a);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The legend names only the record kinds the trace holds: a lock run's has its holder spans,
// spins, halts and kicks and no clock reads or tk_core writes (its tick's updates are counted in
// a note, not drawn); the vDSO demo's has them; an RCU run's has its grace periods.
TEST(ReportLegend, ListsOnlyWhatTheRunContains) {
  const std::string lock = legend_of(page("lock-holder-preemption.json").html);
  ASSERT_FALSE(lock.empty());
  EXPECT_EQ(lock.find("tk_core"), std::string::npos) << lock;
  EXPECT_EQ(lock.find("clock reads"), std::string::npos) << lock;
  EXPECT_EQ(lock.find("timekeeping update (c0"), std::string::npos) << lock;
  EXPECT_EQ(lock.find("RCU grace period"), std::string::npos) << lock;
  for (const char* present : {"lock held", "spinning", "halted", "pv kick received",
                              "lock holder preempted", "preempted"})
    EXPECT_NE(lock.find(present), std::string::npos) << present << " missing from " << lock;
  EXPECT_NE(lock.find("Not drawn:"), std::string::npos) << lock;
  const std::string& lock_html = page("lock-holder-preemption.json").html;
  EXPECT_EQ(lock_html.find(">seqcount writes</text>"), std::string::npos);
  EXPECT_NE(lock_html.find(">lock0.val</text>"), std::string::npos);
  EXPECT_GT(count(lock_html, "class=\"kick-mark\""), 0u);
  EXPECT_GT(count(lock_html, "class=\"holder-preempted-mark\""), 0u);

  const std::string vdso = legend_of(page("vdso-time-backwards.json").html);
  for (const char* present :
       {"write tk_core.seq", "clock reads", "timekeeping update (c0", "violation"})
    EXPECT_NE(vdso.find(present), std::string::npos) << present << " missing from " << vdso;
  EXPECT_EQ(vdso.find("lock held"), std::string::npos) << vdso;

  const Page& rcu = page("rcu-grace-period.json");
  EXPECT_NE(legend_of(rcu.html).find("RCU grace period"), std::string::npos);
  EXPECT_NE(rcu.html.find(">RCU grace periods</text>"), std::string::npos);
  EXPECT_NE(rcu.html.find("held by vCPU2</title>"), std::string::npos);
}

// Each pCPU slice takes its vCPU's palette colour, the same on every pCPU, different between
// vCPUs; the load task is the neutral grey; the legend says so with one swatch per vCPU.
TEST(ReportTimeline, PcpuLanesTakeTheColourOfTheVcpuTheyRun) {
  const std::string& html = page("lock-holder-preemption.json").html;
  const std::regex rect(R"re(fill="(#[0-9a-f]{6})"><title>pCPU(\d+): ([A-Za-z]+\d*)</title>)re");
  std::map<std::string, std::set<std::string>> fills;  // thread -> fills
  std::set<std::string> pcpus;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), rect); it != std::sregex_iterator();
       ++it) {
    fills[(*it)[3]].insert((*it)[1]);
    pcpus.insert((*it)[2]);
  }
  EXPECT_EQ(pcpus.size(), 3u);
  std::set<std::string> vcpu_colours;
  for (int k = 0; k < 6; ++k) {
    const auto& f = fills["vCPU" + std::to_string(k)];
    ASSERT_EQ(f.size(), 1u) << "vCPU" << k << " is drawn in " << f.size() << " colours";
    vcpu_colours.insert(*f.begin());
  }
  EXPECT_EQ(vcpu_colours.size(), 6u) << "each vCPU its own colour";
  ASSERT_EQ(fills["load0"].size(), 1u);
  EXPECT_EQ(*fills["load0"].begin(), "#9e9e9e");
  const std::string legend = legend_of(html);
  EXPECT_NE(legend.find("coloured by the vCPU they run"), std::string::npos) << legend;
  for (int k = 0; k < 6; ++k)
    EXPECT_NE(legend.find(">vCPU" + std::to_string(k) + "</span>"), std::string::npos) << legend;
}

// The report lists the notable events, each linking to #t=NS of its moment (the first 50 of a
// kind, with the count of the rest); `timeline --at N` and `--at KIND:N` draw the same event; a
// bad EVENT is one message with the allowed forms, exit 2.
TEST(NotableEvents, ReportLinksEachAndTimelineAtDrawsIt) {
  const Page& p = page("lock-holder-preemption.json");
  const tools::TraceView view = tools::parse_trace(p.trace);  // parsed once, drawn many times
  const tools::NotableList list = tools::notable_events(view);
  const std::size_t lhp = list.total.at("holder-preempted");
  ASSERT_GT(lhp, tools::kNotableShownPerKind) << "the cap must be exercised";
  EXPECT_EQ(count(p.html, "<tr class=\"notable\""), tools::kNotableShownPerKind);
  EXPECT_NE(p.html.find(std::to_string(lhp - tools::kNotableShownPerKind) +
                        " more holder-preempted events"),
            std::string::npos);
  const tools::NotableEvent& first = list.all[list.shown[0]];
  const std::string at_ns = std::to_string(first.start / sim::kNanosecond);
  EXPECT_NE(p.html.find("<a href=\"#t=" + at_ns.substr(0, at_ns.size() - 1)), std::string::npos);

  tools::TimelineOptions o;
  o.width = 100;
  o.at = "0";
  const std::string by_number = tools::render_timeline(view, o);
  o.at = "holder-preempted:0";
  const std::string by_kind = tools::render_timeline(view, o);
  EXPECT_EQ(by_number.substr(by_number.find("\n\nwindow")),
            by_kind.substr(by_kind.find("\n\nwindow")))
      << "the same event, the same chart";
  EXPECT_NE(by_kind.find("lock holder preempted"), std::string::npos) << by_kind;
  EXPECT_NE(by_number.find("event 0 (holder-preempted:0) at"), std::string::npos) << by_number;
  EXPECT_NE(by_kind.find("event holder-preempted:0 at"), std::string::npos) << by_kind;
  o.at = "holder-preempted:" + std::to_string(lhp - 1);  // past the report's cap: still reachable
  EXPECT_NO_THROW(tools::render_timeline(view, o));
  for (const char* bad : {"x", "-1", "bogus:1", "holder-preempted:x", "long-gp:0", "999"}) {
    o.at = bad;
    try {
      tools::render_timeline(view, o);
      ADD_FAILURE() << "--at " << bad << " accepted";
    } catch (const sim::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("allowed: N"), std::string::npos) << e.what();
    }
  }
  o.at = "0";
  o.from = "1ms";
  EXPECT_THROW(tools::render_timeline(view, o), sim::ConfigError);

  // The command line, on the run's first 3ms (the first preemption is at about 0.1ms).
  TempDir dir;
  const fs::path trace = dir.path() / "t.json";
  const CliResult run =
      run_cli({"run", std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/lock-holder-preemption.json",
               "--set", "host.pcpus=3", "--trace", trace.string(), "--trace-to", "3ms",
               "--no-expect", "--quiet"});
  ASSERT_EQ(run.status, 0) << run.err;
  const CliResult bad = run_cli({"timeline", trace.string(), "--at", "lhp:1"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("KIND:N with KIND one of violation, holder-preempted, long-gp"),
            std::string::npos)
      << bad.err;
  const CliResult good = run_cli({"timeline", trace.string(), "--at", "holder-preempted:0"});
  EXPECT_EQ(good.status, 0) << good.err;
}

// The first divergence of two runs in words: who did what, and that the other run did not.
TEST(DiffWords, NamesTheDivergenceInPlainWords) {
  tools::RunResult a, b;
  for (tools::RunResult* r : {&a, &b}) {
    r->components.add("pcpu1", "pcpu", 1);
    r->components.add("vcpu2", "vcpu", 2);
    r->components.add("vcpu3", "vcpu", 3);
    r->components.add("load0", "load", 4);
  }
  const sim::RecordedEvent preempt{1234 * sim::kMicrosecond, 0, "deschedule", 2, 0};
  const sim::RecordedEvent later{1240 * sim::kMicrosecond, 0, "dispatch", 4, 0};
  EXPECT_EQ(tools::divergence_sentence(a, &later, b, &preempt),
            "At 1.234ms, the failing run: pCPU1 preempted vCPU2; the passing run did not (its "
            "next event, at 1.24ms: pCPU1 ran load0).");
  EXPECT_EQ(tools::divergence_sentence(a, &preempt, b, nullptr),
            "At 1.234ms, the passing run: pCPU1 preempted vCPU2; the failing run did not (it "
            "recorded nothing more).");
  const sim::RecordedEvent kick{1234 * sim::kMicrosecond, 2, "kick", 2, 0};
  EXPECT_EQ(tools::divergence_sentence(a, &kick, b, &preempt),
            "At 1.234ms, the failing run: pCPU1 preempted vCPU2; the passing run instead: vCPU2 "
            "kicked vCPU3.");
}

// vCPU10 and vCPU11 are drawn as "10" and "11" where their runs start on a pCPU row, never as
// a lone "0" or "1"; the vCPU rows are labelled in full.
TEST(Timeline, VcpuNumbersOfAnyWidth) {
  const Traced t = run_traced(
      "lock-holder-preemption.json",
      {"vm.vcpus=12", "guest.workloads[0].vcpus=[0,1,2,3,4,5,6,7,8,9,10,11]", "duration=\"4ms\""});
  tools::TimelineOptions o;
  o.width = 400;
  const std::string text = tools::render_timeline(chrome(t), o);
  EXPECT_NE(text.find("\nvCPU10 "), std::string::npos) << text;
  EXPECT_NE(text.find("\nvCPU11 "), std::string::npos) << text;
  std::string pcpus;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("pCPU", 0) == 0) pcpus += line.substr(line.find('|')) + "\n";
  EXPECT_NE(pcpus.find("10="), std::string::npos) << pcpus;
  EXPECT_NE(pcpus.find("11="), std::string::npos) << pcpus;
  // Every run of a vCPU starts with its whole number followed by '=': no run of digits that is
  // not one vCPU's number.
  const std::regex number(R"([0-9]+(.))");
  std::size_t numbers = 0;
  for (auto it = std::sregex_iterator(pcpus.begin(), pcpus.end(), number);
       it != std::sregex_iterator(); ++it, ++numbers) {
    EXPECT_LT(std::stoi(it->str()), 12) << it->str() << " in\n" << pcpus;
    EXPECT_EQ((*it)[1], "=") << it->str() << " in\n" << pcpus;
  }
  EXPECT_GT(numbers, 12u);
  EXPECT_NE(text.find("a vCPU's number where its run starts"), std::string::npos);
}

// Metrics by component (the registry's groups), values in their unit at a readable scale, and a
// summary metric as one row with its quantile strip instead of five raw rows.
TEST(ReportMetrics, GroupedByComponentInTheirUnits) {
  EXPECT_EQ(tools::format_metric_value(1234567, "ns"), "1.235 ms");
  EXPECT_EQ(tools::format_metric_value(25811, "ns"), "25.81 us");
  EXPECT_EQ(tools::format_metric_value(35, "ns"), "35 ns");
  EXPECT_EQ(tools::format_metric_value(6939, "count"), "6,939");
  EXPECT_EQ(tools::format_metric_value(0.314416124025, "fraction"), "0.3144");
  const std::string& html = page("lock-holder-preemption.json").html;
  EXPECT_NE(html.find("<h3 class=\"metric-group\">lock_torture</h3>"), std::string::npos);
  EXPECT_NE(html.find("<h3 class=\"metric-group\">hypervisor</h3>"), std::string::npos);
  EXPECT_EQ(html.find(">locks.lock0.wait_ns.p50<"), std::string::npos);
  const auto row = html.find(">locks.lock0.wait_ns</td>");
  ASSERT_NE(row, std::string::npos);
  const std::string tr = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_NE(tr.find("<svg class=\"quantiles\""), std::string::npos) << tr;
  EXPECT_NE(tr.find(" us</td>"), std::string::npos) << "its maximum in us: " << tr;
  EXPECT_NE(tr.find(" ns</td>"), std::string::npos) << "its minimum in ns: " << tr;
  // Its histogram: one bar per bin of the result's "histograms", the bars' counts adding up to
  // the metric's samples.
  EXPECT_NE(tr.find("<svg class=\"histogram\""), std::string::npos) << tr;
  const auto& bins = page_result("lock-holder-preemption.json")["histograms"]["locks.lock0.wait_ns"];
  ASSERT_TRUE(bins.is_array());
  std::size_t bars = 0;
  for (auto at = tr.find("<rect", tr.find("class=\"histogram\"")); at != std::string::npos;
       at = tr.find("<rect", at + 1))
    ++bars;
  EXPECT_EQ(bars, bins.size());
  std::int64_t total = 0;
  for (const auto& b : bins) total += b.at(2).get<std::int64_t>();
  EXPECT_EQ(total, page_result("lock-holder-preemption.json")["metrics"]["locks.lock0.wait_ns.count"]
                       .get<std::int64_t>());
}

// A result whose histogram bin is not [low, high, count] (the fuzzer's finding: a bin of two
// values was read at index 2) is refused with its JSON path, not thrown out of the reader.
TEST(ReportMetrics, AMalformedHistogramBinIsAConfigErrorWithItsPath) {
  const std::string result =
      R"({"scenario": {"name": "h"}, "metrics": {"reader_latency_ns.vdso.p50": 25},
          "histograms": {"reader_latency_ns.vdso": [[24, 27, 3], [320, 383]]}})";
  try {
    (void)tools::render_report(result, "", "r.json");
    ADD_FAILURE() << "a bin of two values was accepted";
  } catch (const sim::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("r.json: $.histograms.reader_latency_ns.vdso[1]"), std::string::npos)
        << what;
    EXPECT_NE(what.find("[low, high, count]"), std::string::npos) << what;
  }
  const std::string not_a_number =
      R"({"scenario": {}, "metrics": {}, "histograms": {"x": [[1, "2", 3]]}})";
  EXPECT_THROW((void)tools::render_report(not_a_number, "", "r.json"), sim::ConfigError);
}

}  // namespace
}  // namespace vcpusim::test
