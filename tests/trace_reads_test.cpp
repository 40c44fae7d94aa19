// Issue 14: clock reads in the trace. By default a per-reader counter of reads per 100 us and the
// single reads near each violation (the demo's trace under 5 MB, the violating pair in it); with
// `read` in --trace-kinds, every read (guest/trace_lanes.hpp, docs/trace.md).
#include <gtest/gtest.h>

#include <sstream>

#include "scenario_util.hpp"
#include "tools/run/trace_io.hpp"
#include "tools/view/trace_view.hpp"

using namespace vcpusim;
using test::run_traced;
using test::Traced;
using nlohmann::json;

namespace {

std::string chrome(const Traced& t, const sim::TraceFilter& f = {}) {
  std::ostringstream out;
  tools::write_chrome_trace(out, tools::make_trace(*t.scenario, t.result, f), f,
                            t.scenario->duration);
  return out.str();
}

// The reads (instants of cat "read") of one vCPU lane, as (end time ps, value ns).
std::vector<std::pair<sim::Tick, std::int64_t>> reads_of(const json& doc, int tid) {
  std::vector<std::pair<sim::Tick, std::int64_t>> r;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "i" && e["cat"] == "read" && e["tid"] == tid)
      r.emplace_back(tools::ts_to_tick(e["ts"].get<double>()),
                     e["args"]["value_ns"].get<std::int64_t>());
  return r;
}

int lane_tid(const json& doc, const std::string& name) {
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == name)
      return e["tid"].get<int>();
  return -1;
}

}  // namespace

TEST(TraceScenario, DefaultTraceCountsReadsAndKeepsTheViolations) {
  const Traced t = run_traced("vdso-time-backwards.json");
  const std::string text = chrome(t);
  EXPECT_LT(text.size(), 5u * 1000 * 1000) << "the demo's default trace";
  const json doc = json::parse(text);
  const auto& violations = t.result.document["violations"];
  ASSERT_GT(violations.size(), 0u);
  // The counter holds every read of the run: its bins sum to the reads the result counts.
  std::int64_t counted = 0;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "C" && e["name"] == "clock reads vCPU1")
      counted += e["args"]["per_100us"].get<std::int64_t>();
  EXPECT_EQ(counted,
            t.result.document["metrics"]["reader_latency_ns.vdso.count"].get<std::int64_t>());
  // Each violation's pair of reads is there one by one, with the values the check saw.
  const int tid = lane_tid(doc, "vCPU1");
  const auto reads = reads_of(doc, tid);
  for (const auto& v : violations) {
    for (const char* which : {"earlier", "later"}) {
      const auto& d = v["details"][which];
      const auto end = static_cast<sim::Tick>(d["end_ns"].get<double>() * sim::kNanosecond + 0.5);
      const auto value = d["value_ns"].get<std::int64_t>();
      EXPECT_NE(std::find(reads.begin(), reads.end(), std::make_pair(end, value)), reads.end())
          << which << " read of " << v.dump();
    }
  }
  // Far fewer single reads than reads: only those within 50 us of a violation.
  EXPECT_LT(reads.size() * 100, static_cast<std::size_t>(counted));
  // The terminal view and the report see the counted reads.
  const tools::TraceView view = tools::parse_trace(text);
  const tools::ViewLane* lane = view.lane_by_tid(tid);
  ASSERT_NE(lane, nullptr);
  std::int64_t in_bins = 0;
  for (const auto& b : lane->read_bins) in_bins += b.count;
  EXPECT_EQ(in_bins, counted);
}

TEST(TraceScenario, ReadInTraceKindsKeepsEveryRead) {
  const Traced t = run_traced("vdso-time-backwards.json", {"duration=\"20ms\""});
  const sim::TraceFilter f = tools::parse_trace_filter("", "", "vcpu,read,violation");
  const json doc = json::parse(chrome(t, f));
  std::size_t reads = 0, counters = 0;
  for (const auto& e : doc["traceEvents"]) {
    reads += e["ph"] == "i" && e["cat"] == "read";
    counters += e["ph"] == "C";
  }
  EXPECT_EQ(reads, t.result.document["metrics"]["reader_latency_ns.vdso.count"].get<std::size_t>());
  EXPECT_EQ(counters, 0u);
}
