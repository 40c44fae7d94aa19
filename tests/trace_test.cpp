// Trace outputs (sim/trace/trace.hpp, docs/trace.md): a structural validator of the Chrome Trace
// Event JSON run on every catalogue scenario, the volume controls, determinism, the terminal
// timeline, the VCD round trip through GTKWave's vcd2fst/fst2vcd and the self-contained HTML
// report.
#include "sim/trace/trace.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cpu/trace_lanes.hpp"
#include "guest/trace_kinds.hpp"
#include "guest/trace_lanes.hpp"
#include "scenario_util.hpp"
#include "sim/error.hpp"
#include "tools/run/trace_io.hpp"
#include "tools/view/report.hpp"
#include "tools/view/timeline.hpp"

using namespace vcpusim;
using test::run_traced;
using test::Traced;
using nlohmann::json;

namespace {

std::vector<std::string> catalogue() {
  return test::catalogue_files();
}

std::string chrome(const Traced& t, const sim::TraceFilter& f = {}) {
  std::ostringstream out;
  tools::make_trace(*t.scenario, t.result, f).write_chrome_json(out);
  return out.str();
}

// The structural validator: returns the problems found (empty when the trace is well formed).
std::vector<std::string> validate(const json& doc, int pcpus, int vcpus) {
  std::vector<std::string> bad;
  auto fail = [&bad](std::string s) {
    if (bad.size() < 20) bad.push_back(std::move(s));
  };
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array())
    return {"no traceEvents array"};
  const std::set<std::string> phases = {"M", "B", "E", "i", "b", "e", "s", "f", "C"};
  std::map<std::pair<int, int>, std::vector<std::string>> stacks;
  std::map<std::pair<std::string, std::string>, std::string> async_open;
  std::map<std::int64_t, int> flows;  // id -> 1 started, 2 finished
  std::map<std::pair<int, int>, std::string> names;
  std::map<std::pair<int, int>, int> sort;
  double last = -1;
  std::size_t i = 0;
  for (const auto& e : doc["traceEvents"]) {
    const std::string at = "event " + std::to_string(i++) + " " + e.dump().substr(0, 160);
    for (const char* k : {"ph", "ts", "pid", "tid", "name"})
      if (!e.contains(k)) fail(at + ": missing " + k);
    if (!e.contains("ph") || !e["ph"].is_string() || !phases.count(e["ph"].get<std::string>())) {
      fail(at + ": bad ph");
      continue;
    }
    if (!e["ts"].is_number() || !e["pid"].is_number_integer() || !e["tid"].is_number_integer() ||
        !e["name"].is_string()) {
      fail(at + ": bad field types");
      continue;
    }
    const std::string ph = e["ph"];
    const auto lane = std::make_pair(e["pid"].get<int>(), e["tid"].get<int>());
    if (ph == "M") {
      if (!e.contains("args") || !e["args"].is_object()) fail(at + ": metadata without args");
      if (e["name"] == "thread_name") names[lane] = e["args"]["name"];
      if (e["name"] == "thread_sort_index") sort[lane] = e["args"]["sort_index"];
      continue;
    }
    const double ts = e["ts"].get<double>();
    if (ts < last) fail(at + ": timestamp goes backwards");
    last = ts;
    if (!e.contains("cat") || !e["cat"].is_string()) fail(at + ": missing cat");
    if (ph == "B" || ph == "E" || ph == "i" || ph == "s" || ph == "f")
      if (!names.count(lane)) fail(at + ": lane without a thread_name");
    if (ph == "B") {
      stacks[lane].push_back(e["name"]);
    } else if (ph == "E") {
      auto& st = stacks[lane];
      if (st.empty())
        fail(at + ": E without B");
      else if (st.back() != e["name"].get<std::string>())
        fail(at + ": E closes " + e["name"].get<std::string>() + " but " + st.back() + " is open");
      else
        st.pop_back();
    } else if (ph == "b" || ph == "e") {
      if (!e.contains("id") || !e["id"].is_string()) fail(at + ": async without a string id");
      const auto key = std::make_pair(e["cat"].get<std::string>(), e.value("id", std::string()));
      if (ph == "b") {
        if (async_open.count(key)) fail(at + ": async id reused while open");
        async_open[key] = e["name"];
      } else if (!async_open.count(key)) {
        fail(at + ": async end without begin");
      } else {
        async_open.erase(key);
      }
    } else if (ph == "s" || ph == "f") {
      if (!e.contains("id") || !e["id"].is_number_integer()) fail(at + ": flow without id");
      const auto id = e.value("id", std::int64_t{-1});
      if (ph == "s") {
        if (flows.count(id)) fail(at + ": flow id reused");
        flows[id] = 1;
      } else {
        if (flows[id] != 1) fail(at + ": flow end without start");
        if (e.value("bp", "") != "e") fail(at + ": flow end not bound to its enclosing slice");
        flows[id] = 2;
      }
    } else if (ph == "C") {
      if (!e.contains("args") || !e["args"].is_object() || e["args"].empty())
        fail(at + ": counter without args");
      for (auto it = e["args"].begin(); it != e["args"].end(); ++it)
        if (!it->is_number()) fail(at + ": counter value not a number");
    } else if (ph == "i") {
      if (e.value("s", "") != "t") fail(at + ": instant without thread scope");
    }
  }
  for (const auto& [lane, st] : stacks)
    if (!st.empty())
      fail("lane " + std::to_string(lane.second) + " ends with " + st.back() + " open");
  for (const auto& [key, name] : async_open) fail("async " + name + " never ends");
  for (const auto& [id, state] : flows)
    if (state != 2) fail("flow " + std::to_string(id) + " has no end");
  // Lanes read pCPU0..n then vCPU0..n.
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [lane, name] : names) order.emplace_back(sort[lane], name);
  std::sort(order.begin(), order.end());
  std::vector<std::string> want;
  for (int p = 0; p < pcpus; ++p) want.push_back("pCPU" + std::to_string(p));
  for (int v = 0; v < vcpus; ++v) want.push_back("vCPU" + std::to_string(v));
  std::vector<std::string> got;
  for (const auto& [s, n] : order) got.push_back(n);
  if (got != want) fail("lane order is not pCPU0..n then vCPU0..n");
  return bad;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

class TraceScenario : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TraceScenario, ChromeTraceIsStructurallyValid) {
  const Traced t = run_traced(GetParam());
  const json doc = json::parse(chrome(t));
  const int pcpus = static_cast<int>(t.scenario->host.pcpus.value);
  const int vcpus = static_cast<int>(t.scenario->vm.vcpus.value);
  EXPECT_EQ(join(validate(doc, pcpus, vcpus)), "");
  std::size_t violations = 0, slices = 0;
  for (const auto& e : doc["traceEvents"]) {
    violations += e.value("cat", "") == "violation";  // metadata events have no cat
    slices += e["ph"] == "B";
  }
  EXPECT_EQ(violations, t.result.document["violations"].size());
  EXPECT_GT(slices, 0u);
  // A window and a kind filter keep the trace valid, inside the window, of those kinds only.
  sim::TraceFilter f = tools::parse_trace_filter("2ms", "9ms", "sched,vcpu,irq,flow,counter");
  const json small = json::parse(chrome(t, f));
  EXPECT_EQ(join(validate(small, pcpus, vcpus)), "");
  for (const auto& e : small["traceEvents"]) {
    if (e["ph"] == "M") continue;
    EXPECT_GE(e["ts"].get<double>(), 2000.0);
    EXPECT_LE(e["ts"].get<double>(), 9000.0);
    EXPECT_TRUE(f.categories.count(e["cat"].get<std::string>())) << e.dump();
  }
}

// Cross-CPU calls that complete: every IPI is an arrow from the sender's lane to the handler
// on the target's lane, and the callers' csd spins are named slices.
TEST(Trace, IpisAreFlowsAndCsdWaitsAreSpins) {
  const Traced t = run_traced("ipi-deadlock.json", {"guest.smp_call.variant=poll-own-queue"});
  const json doc = json::parse(chrome(t));
  EXPECT_EQ(join(validate(doc, 2, 2)), "");
  std::size_t starts = 0, ends = 0, spins = 0;
  for (const auto& e : doc["traceEvents"]) {
    const std::string cat = e.value("cat", "");  // metadata events have none
    if (cat != "flow" && cat != "spin") continue;
    starts += e["ph"] == "s";
    ends += e["ph"] == "f";
    spins += e["ph"] == "B" && e["name"].get<std::string>().rfind("spin on csd", 0) == 0;
  }
  const auto ipis = t.result.document["metrics"]["ipi.sent"].get<std::size_t>();
  EXPECT_GT(ipis, 0u);
  EXPECT_EQ(starts, ipis);
  EXPECT_EQ(ends, ipis);
  EXPECT_GT(spins, 0u);
}

TEST_P(TraceScenario, RecordingForTheTraceChangesNothing) {
  const Traced t = run_traced(GetParam());
  const auto plain = test::run_file(GetParam());
  EXPECT_EQ(t.result.document.dump(), plain.document.dump());
  EXPECT_EQ(chrome(t), chrome(run_traced(GetParam())));  // byte-identical trace
}

INSTANTIATE_TEST_SUITE_P(Scenarios, TraceScenario, ::testing::ValuesIn(catalogue()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Trace, ValidatorCatchesBrokenTraces) {
  const json ok = json::parse(R"({"traceEvents":[
    {"ph":"M","ts":0,"pid":1,"tid":1,"name":"thread_name","args":{"name":"pCPU0"}},
    {"ph":"B","ts":1,"pid":1,"tid":1,"name":"a","cat":"x"},
    {"ph":"E","ts":2,"pid":1,"tid":1,"name":"a","cat":"x"}]})");
  EXPECT_EQ(join(validate(ok, 1, 0)), "");
  json unbalanced = ok;
  unbalanced["traceEvents"].erase(2);
  EXPECT_NE(join(validate(unbalanced, 1, 0)), "");
  json backwards = ok;
  backwards["traceEvents"][2]["ts"] = 0.5;
  EXPECT_NE(join(validate(backwards, 1, 0)), "");
  json dangling = ok;
  dangling["traceEvents"].push_back({{"ph", "s"},
                                     {"ts", 3},
                                     {"pid", 1},
                                     {"tid", 1},
                                     {"name", "IPI"},
                                     {"cat", "flow"},
                                     {"id", 1}});
  EXPECT_NE(join(validate(dangling, 1, 0)), "");
}

TEST(Trace, NotesAreKeptButNeverHashed) {
  sim::Recorder a, b;
  for (sim::Recorder* r : {&a, &b}) {
    r->components().add("pcpu0", "pcpu", 0);
    r->components().add("vcpu0", "vcpu", 0);
  }
  b.keep_events(true);
  a.record(1, 0, "x", 3, 4);
  b.record(1, 0, "x", 3, 4);
  b.note(1, 1, "spin.begin", 7, 0);
  b.label(7, "tk_core.seq");
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(b.events().size(), 2u);
}

// The translators understand the documented trace-only notes (docs/trace.md): the vCPUs' own
// (cpu/) and those guest models record on a vCPU's lane, which guest/ claims.
TEST(Trace, NotesBecomeSpinSlicesLockSpansAndFlows) {
  sim::TraceInfo info;
  info.title = "notes";
  info.end = 100;
  sim::Components comps;
  const int p0 = comps.add("pcpu0", "pcpu", 0), p1 = comps.add("pcpu1", "pcpu", 1);
  const int v0 = comps.add("vcpu0", "vcpu", 0), v1 = comps.add("vcpu1", "vcpu", 1);
  std::vector<sim::RecordedEvent> ev = {{0, p0, "dispatch", 0, 0},
                                        {0, p1, "dispatch", 1, 0},
                                        {10, v0, guest::trace_kind::kLockAcquire, 5, 0},
                                        {12, v1, "spin.begin", 5, 0},
                                        {14, v0, guest::trace_kind::kSeqWriteBegin, 6, 0},
                                        {16, v0, guest::trace_kind::kSeqWriteEnd, 6, 0},
                                        {20, v0, guest::trace_kind::kLockRelease, 5, 0},
                                        {20, v0, guest::trace_kind::kLockHolderPreempted, 5, 1},
                                        {20, v1, "kick", 0, 0},
                                        {22, v1, "spin.end", 5, 0},
                                        {30, v0, "ipi.deliver", 1, 1},
                                        {31, v1, "raise", 1, 0},
                                        {32, v1, "irq.ipi", 1, 0},
                                        {40, v1, "irq.ipi", 0, 0},
                                        {50, v1, "halt.begin", 0, 0},
                                        {51, p1, "sleep", 1, 0},
                                        {60, v1, "kick", 0, 0},
                                        {70, p1, "wake", 1, 0},
                                        {70, p1, "dispatch", 1, 0},
                                        {71, v1, "halt.end", 0, 0}};
  cpu::HostTraceVocabulary host(comps);
  guest::GuestTraceVocabulary guest(0);
  const auto trace = sim::Trace::build(info, comps, ev, {{5, "demo_lock"}, {6, "tk_core.seq"}}, {},
                                       {}, {&host, &guest});
  std::ostringstream out;
  trace.write_chrome_json(out);
  const json doc = json::parse(out.str());
  EXPECT_EQ(join(validate(doc, 2, 2)), "");
  std::multiset<std::string> seen;
  for (const auto& e : doc["traceEvents"])
    seen.insert(e["ph"].get<std::string>() + ":" + e["name"].get<std::string>());
  EXPECT_EQ(seen.count("B:spin on demo_lock"), 1u);
  EXPECT_EQ(seen.count("b:lock demo_lock held by vCPU0"), 1u);
  EXPECT_EQ(seen.count("b:write tk_core.seq by vCPU0"), 1u);
  EXPECT_EQ(seen.count("i:lock holder preempted: demo_lock (1 waiting)"), 1u);
  EXPECT_EQ(seen.count("s:IPI"), 1u);
  EXPECT_EQ(seen.count("f:IPI"), 1u);
  EXPECT_EQ(seen.count("s:pv kick"), 2u);
  EXPECT_EQ(seen.count("f:pv kick"), 2u);
  EXPECT_EQ(seen.count("C:waiters demo_lock"), 2u);
  // A kick is recorded by the kicked vCPU (a = sender): the arrow runs from vCPU0 to vCPU1.
  for (const auto& e : doc["traceEvents"])
    if (e["name"] == "pv kick") {
      EXPECT_EQ(e["tid"], e["ph"] == "s" ? 20000 : 20001) << e.dump();
    }
  EXPECT_GE(seen.count("B:halted (polling)"), 1u);
}

namespace {

// A vocabulary that writes down the kinds it was handed.
struct Listener final : sim::TraceVocabulary {
  Listener(std::vector<std::string> groups, std::vector<std::string> kinds)
      : groups_(std::move(groups)), kinds_(std::move(kinds)) {}
  std::vector<std::string> groups() const override { return groups_; }
  std::vector<std::string> kinds() const override { return kinds_; }
  void declare(sim::TraceBuilder&) override {}
  void handle(const sim::EventView& e, sim::TraceBuilder&) override { seen.emplace_back(e.kind); }
  std::vector<std::string> groups_, kinds_;
  std::vector<std::string> seen;
};

}  // namespace

// cpu/ draws a vCPU's lane without knowing what a lock is: a kind a vocabulary claims goes to it
// whichever group recorded it, every other kind to the vocabulary of the recorder's group.
TEST(Trace, AClaimedKindGoesToItsClaimantNotToTheRecordersGroup) {
  sim::Components comps;
  const int v0 = comps.add("vcpu0", "vcpu", 0), load = comps.add("load0", "load", 0);
  Listener host({"vcpu"}, {}), guest({"timekeeping"}, {"lock.acquire"});
  const std::vector<sim::RecordedEvent> ev = {
      {1, v0, "halt.begin", 0, 0}, {2, v0, "lock.acquire", 5, 0}, {3, load, "lock.acquire", 5, 0}};
  sim::TraceInfo info;
  info.end = 10;
  sim::Trace::build(info, comps, ev, {}, {}, {}, {&host, &guest});
  EXPECT_EQ(host.seen, (std::vector<std::string>{"halt.begin"}));
  EXPECT_EQ(guest.seen, (std::vector<std::string>{"lock.acquire", "lock.acquire"}));
}

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("vcpusim_trace_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

int shell(const std::string& cmd) {
  return std::system(cmd.c_str());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// Acceptance: the terminal timeline of the vdso-time-backwards trace, around its first
// violation, shows vCPU0 preempted on pCPU0 by the load task between the tick and the publish,
// and vCPU1's reads on either side. Runs the real CLI on the whole trace.
TEST(Timeline, AroundViolationShowsThePreemptedTimekeeper) {
  const std::string trace = temp_path("vdso.json");
  ASSERT_EQ(shell(std::string(VCPUSIM_BINARY) + " run -q " +
                  test::scenario_path("vdso-time-backwards.json") + " --trace " + trace),
            0)
      << "run failed";
  const std::string out_path = temp_path("timeline.txt");
  ASSERT_EQ(shell(std::string(VCPUSIM_BINARY) + " timeline " + trace +
                  " --around-violation 0 --width 100 > " + out_path),
            0);
  const std::string text = slurp(out_path);
  std::remove(trace.c_str());
  std::remove(out_path.c_str());
  // Key events, in time order.
  std::vector<std::string> lines;
  std::istringstream in(text.substr(text.find("key events:")));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto find = [&lines](const std::string& what, std::size_t from = 0) {
    for (std::size_t i = from; i < lines.size(); ++i)
      if (lines[i].find(what) != std::string::npos) return i;
    return lines.size();
  };
  const std::size_t tick = find("vCPU0   enters irq.timer");
  const std::size_t preempt = find("pCPU0:  load0 preempts vCPU0 (vCPU0 preempted on pCPU0)");
  const std::size_t back = find("pCPU0:  runs vCPU0", preempt);
  const std::size_t publish = find("timekeeping update ends (published)", back);
  const std::size_t read_before = find("vCPU1   vdso read", back);
  const std::size_t read_after = find("vCPU1   vdso read", publish);
  const std::size_t violation = find("vCPU1   VIOLATION monotonic_time", publish);
  ASSERT_LT(tick, preempt) << text;
  ASSERT_LT(preempt, back) << text;
  ASSERT_LT(back, publish) << text;
  EXPECT_LT(read_before, publish) << text;
  EXPECT_LT(read_after, lines.size()) << text;
  EXPECT_LT(violation, lines.size()) << text;
  // The overview chart: pCPU0 runs the load task (A) while vCPU0 is preempted (p), vCPU1 reads.
  auto row = [&text](const std::string& label) {
    const auto p = text.find("\n" + label);
    return text.substr(p + 1, text.find('\n', p + 1) - p - 1);
  };
  EXPECT_NE(row("pCPU0").find("AAAAAAAAAA"), std::string::npos) << text;
  EXPECT_NE(row("vCPU0").find("pppppppppp"), std::string::npos) << text;
  EXPECT_NE(row("  reads").find("^^^^^"), std::string::npos) << text;
  EXPECT_NE(row("violations").find('!'), std::string::npos) << text;
  EXPECT_NE(text.find("legend:"), std::string::npos);
  EXPECT_EQ(text.find("\x1b["), std::string::npos) << "no colour when stdout is not a terminal";
}

// Premise: lock_torture with 80% of its think time in user mode under overcommit. Expected: the
// trace stays valid, each vCPU lane holds "user mode" slices (nested in its running or preempted
// state, so a preemption in user mode is visible), and the timeline draws them as 'u'.
TEST(Trace, UserModeIsASliceInsideTheVcpuLane) {
  const Traced t = run_traced("lock-holder-preemption.json",
                              {"guest.workloads[0].think=\"20us\"",
                               "guest.workloads[0].user_percent=80", "duration=\"15ms\""});
  const std::string trace = chrome(t);
  const json doc = json::parse(trace);
  EXPECT_EQ(join(validate(doc, 4, 6)), "");
  std::set<int> lanes;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "B" && e["name"] == "user mode") lanes.insert(e["tid"].get<int>());
  EXPECT_EQ(lanes.size(), 6u);
  tools::TimelineOptions o;
  o.width = 200;
  const std::string text = tools::render_timeline(trace, o);
  EXPECT_NE(text.find("\n  u running guest code in user mode"), std::string::npos) << text;
  const auto p = text.find("\nvCPU1");
  ASSERT_NE(p, std::string::npos) << text;
  EXPECT_NE(text.substr(p, text.find('\n', p + 1) - p).find('u'), std::string::npos) << text;
}

TEST(Timeline, FiltersRowsKindsAndWindow) {
  const Traced t = run_traced("vdso-time-backwards.json", {"duration=\"40ms\""});
  const std::string trace = chrome(t);
  tools::TimelineOptions o;
  o.from = "3ms";
  o.to = "36ms";
  o.cpus = "p0,vCPU0";
  o.kinds = "sched,vcpu";
  o.width = 60;
  const std::string text = tools::render_timeline(trace, o);
  EXPECT_NE(text.find("\npCPU0"), std::string::npos);
  EXPECT_NE(text.find("\nvCPU0"), std::string::npos);
  EXPECT_EQ(text.find("\npCPU1"), std::string::npos);
  EXPECT_EQ(text.find("  reads"), std::string::npos);
  o.color = true;
  EXPECT_NE(tools::render_timeline(trace, o).find("\x1b["), std::string::npos);
  o.cpus = "pCPU9";
  EXPECT_THROW(tools::render_timeline(trace, o), sim::ConfigError);
  o.cpus = "";
  o.kinds = "bogus";
  EXPECT_THROW(tools::render_timeline(trace, o), sim::ConfigError);
}

// Acceptance: the VCD survives vcd2fst and fst2vcd (GTKWave, installed by tools/scripts/setup.sh) with
// the same value changes.
TEST(Vcd, RoundTripsThroughGtkwave) {
  ASSERT_EQ(shell("command -v vcd2fst >/dev/null && command -v fst2vcd >/dev/null"), 0)
      << "GTKWave's vcd2fst/fst2vcd are missing: run tools/scripts/setup.sh --tests";
  const Traced t = run_traced("vdso-time-backwards.json", {"duration=\"80ms\""});
  const std::string vcd = temp_path("a.vcd"), fst = temp_path("a.fst"), back = temp_path("b.vcd");
  {
    std::ofstream out(vcd);
    tools::make_trace(*t.scenario, t.result, {}).write_vcd(out);
  }
  ASSERT_EQ(shell("vcd2fst " + vcd + " " + fst + " >/dev/null 2>&1"), 0);
  ASSERT_EQ(shell("fst2vcd " + fst + " > " + back + " 2>/dev/null"), 0);
  // (time, signal name) -> value, with vectors normalised to their full width.
  auto changes = [](const std::string& path) {
    std::ifstream in(path);
    std::map<std::string, std::pair<std::string, int>> ids;  // id -> name, width
    std::vector<std::string> out;
    std::string line, time = "0", scope;
    bool body = false;
    while (std::getline(in, line)) {
      if (line.find("$enddefinitions") != std::string::npos) {
        body = true;
        continue;
      }
      std::istringstream w(line);
      std::string tok;
      w >> tok;
      if (tok == "$scope") {
        std::string kind;
        w >> kind >> scope;
      } else if (tok == "$var") {
        std::string type, id, name;
        int width = 0;
        w >> type >> width >> id >> name;
        ids[id] = {scope + "." + name, width};
      } else if (!body) {
        continue;
      } else if (!tok.empty() && tok[0] == '#') {
        time = tok.substr(1);
      } else if (!tok.empty() && (tok[0] == 'b' || tok[0] == 'B')) {
        std::string id;
        w >> id;
        std::string bits = tok.substr(1);
        const int width = ids[id].second;
        const char fillc = bits[0] == '1' ? '0' : bits[0];
        while (static_cast<int>(bits.size()) < width) bits.insert(bits.begin(), fillc);
        out.push_back(time + " " + ids[id].first + " " + bits);
      } else if (!tok.empty() && std::string("01xzXZ").find(tok[0]) != std::string::npos &&
                 tok.size() > 1) {
        out.push_back(time + " " + ids[tok.substr(1)].first + " " + tok.substr(0, 1));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto before = changes(vcd), after = changes(back);
  EXPECT_GT(before.size(), 20u);
  EXPECT_EQ(before, after);
  for (const auto& p : {vcd, fst, back}) std::remove(p.c_str());
}

// Acceptance (static half; the browser half is tests/trace-viewer/report_test.mjs): the report is
// one self-contained file with the scenario, metrics, violations and an SVG timeline.
TEST(Report, IsSelfContainedWithViolationsAndTimeline) {
  const Traced t = run_traced("vdso-time-backwards.json", {"duration=\"40ms\""});
  const std::string html = tools::render_report(t.result.document.dump(), chrome(t));
  EXPECT_NE(html.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"violation\" id=\"violation-0\""), std::string::npos);
  EXPECT_NE(html.find("focusTime("), std::string::npos);
  EXPECT_NE(html.find("vdso-time-backwards"), std::string::npos);
  EXPECT_NE(html.find(">reader_latency_ns.vdso</td>"), std::string::npos);  // one summary row
  const std::regex fetch(
      R"re((src|href|action|poster|data)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(|XMLHttpRequest|<link|<iframe|<img)re",
      std::regex::icase);
  EXPECT_FALSE(std::regex_search(html, fetch));
  EXPECT_THROW(tools::render_report("{}", ""), sim::ConfigError);
}
