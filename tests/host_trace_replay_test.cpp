// Issue 29, second slice (docs/host-trace.md): what a replayed recording becomes (fair threads as
// demand per nice, real-time threads and interrupt time as reservations), its offset and repeat,
// `vcpusim load import` and its imported recording, and the VM's exits, entries and the host's
// noise interrupts in `run --host-trace`.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_util.hpp"
#include "cpu/ftrace/ftrace_import.hpp"
#include "cpu/ftrace/ftrace_text.hpp"
#include "cpu/ftrace/trace_load.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "sim/record/components.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

using namespace vcpusim;

namespace {

using Windows = std::vector<std::pair<sim::Tick, sim::Tick>>;
const std::string kInputs = std::string(VCPUSIM_SOURCE_DIR) + "/tests/inputs/host_trace/";
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

std::unique_ptr<tools::Scenario> scenario_in(const test::fs::path& dir, const std::string& json) {
  const test::fs::path file = dir / "scenario.json";
  std::ofstream(file) << json;
  return tools::Scenario::load(file.string());
}

std::string host_load(const std::string& load) {
  return R"({"name": "replay", "duration": "60ms",
    "host": {"pcpus": 2, "scheduler": {"policy": "rr"}, "load": [)" + load + R"(]},
    "vm": {"vcpus": 2, "pinning": [[0], [1]]},
    "guest": {"workloads": [{"kind": "busy", "vcpus": [0, 1]}]}})";
}

// Per pCPU, when the host took it (a reservation), from the scheduler's own events.
std::vector<Windows> stolen(const tools::RunResult& r, int pcpus) {
  std::vector<Windows> out(static_cast<std::size_t>(pcpus));
  std::vector<sim::Tick> since(static_cast<std::size_t>(pcpus), -1);
  for (const sim::RecordedEvent& e : r.events) {
    const auto& c = r.components.at(e.component);
    if (c.group != "pcpu") continue;
    auto& s = since[static_cast<std::size_t>(c.index)];
    Windows& w = out[static_cast<std::size_t>(c.index)];
    if (e.kind == "steal" && s < 0) {
      s = e.time;
    } else if (e.kind == "steal_end" && s >= 0) {
      if (!w.empty() && w.back().second == s)
        w.back().second = e.time;
      else
        w.emplace_back(s, e.time);
      s = -1;
    }
  }
  return out;
}

tools::RunResult run_kept(const tools::Scenario& s, std::ostream* host_trace = nullptr) {
  tools::RunOptions o;
  o.keep_events = true;
  o.host_trace = host_trace;
  return tools::run_scenario(s, o);
}

}  // namespace

// What each recorded thread becomes (synth.trace, tools/scripts/synth_ftrace.sh): on trace CPU 0
// the fair threads are one demand at nice 0 and the interrupts at 600-620 us a reservation; on
// trace CPU 1 the real-time migration/1 (prio 0) and the interrupt that hit the vCPU thread are
// reservations, and nicejob (prio 125) is a thread of its own at nice 5, which the run builds.
TEST(HostTraceReplay, RealTimeAndInterruptsAreReservationsEachNiceItsOwnThread) {
  const auto s = tools::Scenario::load(kInputs + "replay-synth.json", {
      "host.load=[{\"kind\": \"trace\", \"file\": \"synth.trace\", \"cpus\": [0, 1]}]"});
  const auto plans = cpu::plan_trace_load(*s->host.load.at(0), "load0");
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_EQ(plans[0].name, "load0.0");
  EXPECT_EQ(plans[0].reserve, (Windows{{600 * us, 620 * us}}));
  EXPECT_EQ(plans[0].demand, (Windows{{0, 100 * us}, {250 * us, 420 * us}, {510 * us, 600 * us},
                                      {620 * us, 900 * us}}));
  EXPECT_EQ(plans[1].name, "load0.1");
  EXPECT_EQ(plans[1].reserve, (Windows{{200 * us, 210 * us}, {750 * us, 800 * us}}));
  EXPECT_EQ(plans[1].demand, (Windows{{0, 50 * us}, {600 * us, 700 * us}}));
  EXPECT_EQ(plans[2].name, "load0.1.nice5");
  EXPECT_EQ(plans[2].nice, 5);
  EXPECT_EQ(plans[2].pcpu, 1);
  EXPECT_EQ(plans[2].demand, (Windows{{800 * us, 850 * us}}));
  EXPECT_TRUE(plans[2].reserve.empty());
  // Reserve mode takes the fair threads as reservations too: one thread per pCPU.
  const auto reserved = tools::Scenario::load(kInputs + "replay-synth.json", {
      "host.load=[{\"kind\": \"trace\", \"file\": \"synth.trace\", \"cpus\": [0, 1], "
      "\"mode\": \"reserve\"}]"});
  const auto r = cpu::plan_trace_load(*reserved->host.load.at(0), "load0");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].reserve, (Windows{{0, 50 * us}, {200 * us, 210 * us}, {600 * us, 700 * us},
                                   {750 * us, 850 * us}}));
  // The run takes the pCPU at exactly the reservations of demand mode.
  const tools::RunResult run = run_kept(*s);
  EXPECT_EQ(stolen(run, 2).at(1), (Windows{{200 * us, 210 * us}, {750 * us, 800 * us}}));
  bool nice_thread = false;
  for (int c = 0; c < run.components.size(); ++c)
    nice_thread |= run.components.at(c).name == "load0.1.nice5";
  EXPECT_TRUE(nice_thread);
}

// The window may start at an offset (what comes before it follows its end) and repeat for as
// long as the run lasts: a 20 ms recording busy 1-4 ms, reserved at offset 2 ms over a 60 ms run,
// takes the pCPU at 0-2, then 19-22 (the cut interval's two halves, touching across the
// repetition), 39-42, 59-60; without repeat only the first window's 0-2 and 19-20.
TEST(HostTraceReplay, OffsetRotatesTheWindowRepeatLoopsIt) {
  EXPECT_EQ(cpu::rotate_window({{0, 100}, {250, 420}, {510, 900}}, 300, 900),
            (Windows{{0, 120}, {210, 600}, {600, 700}, {850, 900}}));
  EXPECT_EQ(cpu::rotate_window({{0, 100}}, 0, 900), (Windows{{0, 100}}));
  test::TempDir dir;
  std::ofstream(dir.path() / "one.trace")
      << "          <idle>-0       [000] .....   100.000000: tracing_mark_write: start\n"
         "          <idle>-0       [000] d..2.   100.001000: sched_switch: prev_comm=swapper/0 "
         "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=hog next_pid=9 next_prio=120\n"
         "             hog-9       [000] d..2.   100.004000: sched_switch: prev_comm=hog "
         "prev_pid=9 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
         "          <idle>-0       [000] .....   100.020000: tracing_mark_write: end\n";
  for (const bool repeat : {true, false}) {
    const auto s = scenario_in(dir.path(), host_load(std::string(R"({"kind": "trace", "file": "one.trace",
        "cpus": [0], "mode": "reserve", "offset": "2ms", "repeat": )") + (repeat ? "true" : "false") + "}"));
    const Windows expected = repeat ? Windows{{0, 2 * ms}, {19 * ms, 22 * ms}, {39 * ms, 42 * ms},
                                              {59 * ms, 60 * ms}}
                                    : Windows{{0, 2 * ms}, {19 * ms, 20 * ms}};
    EXPECT_EQ(stolen(run_kept(*s), 2).at(0), expected) << repeat;
  }
}

// `vcpusim load import` reads a recording once: the summary names the share other threads ran
// per CPU, the busiest threads and the VM's threads it left out; the imported file records the
// source's size and FNV-1a 64, and a trace load replays it exactly as it replays the text.
// Read from a pipe ('-'), perf's text gives the same intervals as tracefs' text.
TEST(HostTraceReplay, LoadImportWritesARecordingThatReplaysTheSame) {
  test::TempDir dir;
  const std::string out = (dir.path() / "synth.json").string();
  const auto r = test::run_cli({"load", "import", kInputs + "synth.trace", "-o", out});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("cpu 0: busy 71.1% (real-time 0.0%), irq 2.2%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpu 1: busy 27.8% (real-time 5.6%), irq 1.1%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  stress (pid 2001, prio 120): 490us"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("left out by --exclude and --exclude-pid (2):\n  CPU 1/KVM (pid 3002): 550us"),
            std::string::npos)
      << r.out;
  const sim::Json file = sim::load_json_file(out);
  const std::string source = test::read_file(kInputs + "synth.trace");
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(sim::stable_hash(source)));
  EXPECT_EQ(file["source"]["fnv1a64"], hash);
  EXPECT_EQ(file["source"]["bytes"], source.size());
  EXPECT_EQ(file["trace_cpus"], (sim::Json{0, 1, 2}));
  EXPECT_EQ(file["load"]["file"], "synth.json");

  test::fs::copy_file(kInputs + "synth.trace", dir.path() / "synth.trace");
  const auto text = scenario_in(dir.path(), host_load(R"({"kind": "trace", "file": "synth.trace", "cpus": [0, 1]})"));
  const auto imported = scenario_in(dir.path(), host_load(R"({"kind": "trace", "file": "synth.json", "cpus": [0, 1]})"));
  EXPECT_EQ(imported->host.load.at(0)->trace.cpus, text->host.load.at(0)->trace.cpus);
  EXPECT_EQ(imported->host.load.at(0)->trace.span, 900 * us);
  EXPECT_EQ(run_kept(*imported).document["metrics"], run_kept(*text).document["metrics"]);

  const std::string piped = (dir.path() / "piped.json").string();
  const std::string cmd = "cat " + test::shell_quote(kInputs + "synth.perf") + " | " +
                          test::shell_quote(VCPUSIM_BINARY) + " load import - --quiet -o " +
                          test::shell_quote(piped);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const sim::Json p = sim::load_json_file(piped);
  EXPECT_EQ(p["intervals_ns"], file["intervals_ns"]);
  EXPECT_EQ(p["selection"]["format"], "perf");
  EXPECT_EQ(p["source"]["file"], "<stdin>");

  // The selection was applied when importing: giving it again is an error, as is a bad file.
  try {
    scenario_in(dir.path(), host_load(R"({"kind": "trace", "file": "synth.json", "cpus": [0], "exclude": ["x"]})"));
    ADD_FAILURE() << "exclude with an imported recording accepted";
  } catch (const sim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("$.host.load[0].exclude: \"synth.json\" is an imported "
                                         "recording, whose selection was applied"),
              std::string::npos)
        << e.what();
  }
  std::ofstream(dir.path() / "bad.json")
      << R"({"intervals_ns": [[0, 5, 3, 120]], "vcpusim_recording": 1, "span_ns": 10, "trace_cpus": [0]})";
  try {
    scenario_in(dir.path(), host_load(R"({"kind": "trace", "file": "bad.json", "cpus": [0]})"));
    ADD_FAILURE() << "an empty interval accepted";
  } catch (const sim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: $.intervals_ns[0]: [0,5,3,120] is empty"),
              std::string::npos)
        << e.what();
  }
  const auto missing = test::run_cli({"load", "import", (dir.path() / "absent").string(), "-o", out});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("cannot open the recording"), std::string::npos) << missing.err;
  const auto bad_format = test::run_cli({"load", "import", kInputs + "synth.trace", "--format",
                                         "perf", "-o", (dir.path() / "x.json").string()});
  EXPECT_EQ(bad_format.status, 2);
  EXPECT_NE(bad_format.err.find("synth.trace:7: "), std::string::npos) << bad_format.err;
  EXPECT_FALSE(test::fs::exists(dir.path() / "x.json"));
}

// The simulated host's exits and entries and its noise interrupts: in the pv hash race with host
// noise on, each vCPU's kvm_exit and kvm_entry lines alternate, with the reasons the model takes
// (HLT for pv_wait's halt, PAUSE_INSTRUCTION for pause-loop exits, VMCALL for kicks,
// EXTERNAL_INTERRUPT for a preemption); a noise interrupt is irq_handler_entry/exit in the
// context of the task it hit, which stays current. Every line is in the grammar, and importing
// the text gives the noise's interrupt time.
TEST(HostTraceReplay, HostTraceShowsExitsEntriesAndNoiseInterrupts) {
  const auto s = tools::Scenario::load(std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/pv-hash-race.json",
                                       {"host.noise.enabled=true"});
  std::ostringstream text;
  const tools::RunResult run = run_kept(*s, &text);
  std::istringstream lines(text.str());
  std::map<std::string, int> reasons;
  std::map<int, bool> in_guest;
  int irq_entries = 0, exits = 0, entries = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    cpu::ftrace::Line l;
    ASSERT_EQ(cpu::ftrace::parse_line(line, l), "") << line;
    if (l.event == "kvm_exit" || l.event == "kvm_entry") {
      std::istringstream f(l.fields);
      std::string word;
      int v = -1;
      f >> word >> v;
      const bool exit = l.event == "kvm_exit";
      auto it = in_guest.emplace(v, true).first;
      EXPECT_EQ(it->second, exit) << line;  // an exit only from guest mode, an entry only after one
      it->second = !exit;
      if (exit) {
        std::string reason;
        f >> word >> reason;
        ++reasons[reason];
        ++exits;
      } else {
        ++entries;
      }
    }
    if (l.event == "irq_handler_entry") ++irq_entries;
  }
  for (const char* reason : {"HLT", "PAUSE_INSTRUCTION", "VMCALL", "EXTERNAL_INTERRUPT"})
    EXPECT_GT(reasons[reason], 0) << reason;
  EXPECT_GE(exits, entries);
  EXPECT_LE(exits, entries + 2);  // at most one exit per vCPU not yet entered again at the end
  int noise = 0;
  for (const sim::RecordedEvent& e : run.events) noise += e.kind == "noise.irq";
  EXPECT_GT(irq_entries, 0);
  EXPECT_LE(irq_entries, noise);  // an interrupt during another on its pCPU is one
  std::istringstream in(text.str());
  cpu::FtraceSelection sel;
  // trace_cpus empty: every CPU the text has.
  sel.exclude = {"vcpu*"};
  const cpu::Recording rec = cpu::import_ftrace(in, "host.trace", sel);
  std::size_t intervals = 0;
  for (const cpu::CpuRecording& c : rec.cpus) intervals += c.irq.size();
  EXPECT_GT(intervals, 0u);
}

// With --host-trace-ns the round trip is exact to the nanosecond: a host whose load windows fall
// off the microsecond (a duty load 2.5005 ms busy from 1.00025 ms) written with nanosecond
// timestamps and replayed as a reserved trace load gives back the same busy windows and the same
// steal per vCPU; with microseconds each edge moves down to its microsecond.
TEST(HostTraceReplay, NanosecondTimestampsRoundTripExactlyOffTheMicrosecond) {
  test::TempDir dir;
  const std::string host = R"({"name": "ns", "seed": 3, "duration": "30ms",
    "host": {"pcpus": 1, "load": [{"kind": "duty", "cpus": [0], "busy": "2500.5us", "idle": "4ms",
      "phase": "1000.25us"}]},
    "vm": {"vcpus": 1},
    "guest": {"workloads": [{"kind": "busy", "vcpus": [0]}]}})";
  const auto a = scenario_in(dir.path(), host);
  for (const bool ns : {true, false}) {
    std::ostringstream text;
    tools::RunOptions o;
    o.keep_events = true;
    o.host_trace = &text;
    o.host_trace_ns = ns;
    const tools::RunResult ra = tools::run_scenario(*a, o);
    std::ofstream(dir.path() / "a.trace") << text.str();
    const auto b = scenario_in(dir.path(), R"({"name": "replayed", "seed": 3, "duration": "30ms",
      "host": {"pcpus": 1, "load": [{"kind": "trace", "file": "a.trace", "cpus": [0],
        "mode": "reserve", "exclude": ["vcpu*"]}]},
      "vm": {"vcpus": 1}, "guest": {"workloads": [{"kind": "busy", "vcpus": [0]}]}})");
    const Windows replayed = [&] {
      Windows w;
      for (const cpu::TraceBusy& x : b->host.load.at(0)->trace.cpus.at(0).busy)
        w.emplace_back(x.start, x.end);
      return w;
    }();
    Windows truth;  // when the load thread had the pCPU, from the scheduler's events
    sim::Tick since = -1;
    for (const sim::RecordedEvent& e : ra.events) {
      if (ra.components.at(e.component).group != "pcpu" || e.a != 1) continue;
      if (e.kind == "dispatch") since = e.time;
      if ((e.kind == "deschedule" || e.kind == "sleep") && since >= 0) {
        truth.emplace_back(since, e.time);
        since = -1;
      }
    }
    ASSERT_GE(truth.size(), 4u);
    EXPECT_NE(truth[0].first % us, 0);  // the premise: edges off the microsecond
    if (ns) {
      EXPECT_EQ(replayed, truth);
      const tools::RunResult rb = run_kept(*b);
      EXPECT_EQ(rb.document["metrics"]["vcpu0.steal_ns"], ra.document["metrics"]["vcpu0.steal_ns"]);
    } else {
      ASSERT_EQ(replayed.size(), truth.size());
      for (std::size_t i = 0; i < truth.size(); ++i)
        EXPECT_EQ(replayed[i].first, truth[i].first / us * us);  // cut to the microsecond
    }
  }
}
