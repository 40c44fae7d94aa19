// Benchmarks, reported as ratios against baselines measured in the same run (issue 12):
//   raw_waits:  a plain SystemC thread doing timed waits, the yardstick for guest operations/s
//   guest:      guest operations/s of the demo, timekeeping-latency and 16 vCPUs on 4 pCPUs all
//               busy, each over the raw timed-wait rate; kernel events per simulated ms and guest
//               operations per event
//   host:       16 vCPUs on 4 pCPUs with host noise, and with a cpu.max quota, over the plain run
//   event_path: every guest operation through the event queue (--no-decoupling) vs the default
//   trace:      the 250 ms demo without and with the Chrome trace (written to a counting sink)
//   scale:      N vCPUs on N/4 pCPUs, half busy, half vDSO readers (tests/scale_scenario.hpp)
//   c_lock:     the C ticket lock plugin over the built-in one, and instrumented over plain
//               (c_plugin_bench.cpp)
//   queue:      the event queue alone on a lockstep host's stream, against the heap of
//               std::functions before issue 30 (event_queue_bench.cpp), in CPU time
// Run: build/vcpusim_bench [--benchmark_* options]; tools/scripts/perf_table.sh prints the whole table.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <streambuf>
#include <string>
#include <systemc>

#include "tests/counting_buf.hpp"
#include "tests/scale_scenario.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"
#include "tools/run/trace_io.hpp"

namespace {

using vcpusim::tools::RunOptions;
using vcpusim::tools::Scenario;

const std::string kScenarios = std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/";
const std::string kDemo = kScenarios + "vdso-time-backwards.json";

// What the summary table prints, by benchmark name.
struct Measured {
  double seconds = 0;  // wall time of one iteration
  double rate = 0;     // guest operations (or raw waits) per second
  double events_per_ms = 0;
  double ops_per_event = 0;
  double trace_bytes_per_ms = 0;
};
std::map<std::string, Measured> g_measured;

// The yardstick: one SystemC thread waiting 10 ns at a time, in a fresh context as sim::Kernel
// makes one per run.
void BM_RawTimedWaits(benchmark::State& state) {
  constexpr int kWaits = 200000;
  for (auto _ : state) {
    sc_core::sc_simcontext* previous = sc_core::sc_curr_simcontext;
    auto* context = new sc_core::sc_simcontext;
    sc_core::sc_curr_simcontext = context;
    sc_core::sc_default_global_context = context;
    sc_core::sc_spawn(
        [] {
          for (int i = 0; i < kWaits; ++i) sc_core::wait(10, sc_core::SC_NS);
          sc_core::sc_stop();
        },
        "raw_waits");
    sc_core::sc_start();
    sc_core::sc_curr_simcontext = previous;
    sc_core::sc_default_global_context = previous;
    delete context;
  }
  state.counters["waits_per_s"] =
      benchmark::Counter(kWaits, benchmark::Counter::kIsIterationInvariantRate);
}

void run_guest(benchmark::State& state, const std::string& name, std::unique_ptr<Scenario> s,
               bool decoupled = true, bool lookahead = true) {
  RunOptions options;
  options.temporal_decoupling = decoupled;
  options.lookahead = lookahead;
  std::uint64_t steps = 0, events = 0;
  for (auto _ : state) {
    const auto r = vcpusim::tools::run_scenario(*s, options);
    steps = r.document["metrics"]["sim.steps"].get<std::uint64_t>();
    events = r.kernel_events;
  }
  const double ms = static_cast<double>(s->duration) / vcpusim::sim::kMillisecond;
  Measured& m = g_measured[name];
  m.events_per_ms = static_cast<double>(events) / ms;
  m.ops_per_event = events ? static_cast<double>(steps) / static_cast<double>(events) : 0;
  state.counters["guest_ops_per_s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events_per_sim_ms"] = m.events_per_ms;
}

void BM_Demo(benchmark::State& s) {
  run_guest(s, "demo", Scenario::load(kDemo, {"duration=\"50ms\""}));
}
void BM_Demo_EventPath(benchmark::State& s) {
  run_guest(s, "demo_event_path", Scenario::load(kDemo, {"duration=\"50ms\""}), false);
}
void BM_TimekeepingLatency(benchmark::State& s) {
  run_guest(s, "timekeeping-latency",
            Scenario::load(kScenarios + "timekeeping-latency.json", {"duration=\"50ms\""}));
}
// 16 vCPUs on 4 pCPUs, every vCPU busy: the host scheduler switches them all the time.
vcpusim::sim::Json busy16on4() {
  auto json = vcpusim::test::scale_scenario(16, "20ms");
  json["guest"]["workloads"] = {
      {{"kind", "busy"}, {"vcpus", json["guest"]["workloads"][0]["vcpus"]}},
      {{"kind", "busy"}, {"vcpus", json["guest"]["workloads"][1]["vcpus"]}}};
  return json;
}
void BM_Busy16On4(benchmark::State& s) {
  run_guest(s, "16 vCPUs on 4 pCPUs busy", Scenario::from_json(busy16on4(), "busy-16x4"));
}
// The same without lookahead (docs/lookahead.md): what issue 30 measured against raw waits.
void BM_Busy16On4_NoLookahead(benchmark::State& s) {
  run_guest(s, "16 vCPUs on 4 pCPUs busy, no lookahead",
            Scenario::from_json(busy16on4(), "busy-16x4-nolookahead"), true, false);
}
// The same with host noise at its documented defaults (docs/host-noise.md) and one emulator
// thread woken 1000 times a second.
void BM_Busy16On4_Noise(benchmark::State& s) {
  auto json = busy16on4();
  json["host"]["noise"] = {{"enabled", true}, {"emulator", {{"rate", "1kHz"}}}};
  run_guest(s, "16 vCPUs on 4 pCPUs busy, noise", Scenario::from_json(json, "busy-16x4-noise"));
}
// Today's host before issue 24: no CFS load balancing (host.scheduler.balance false), no noise.
// The default runs above balance; the summary reports them over this one (goal: within 15%).
void BM_Busy16On4_NoBalance(benchmark::State& s) {
  auto json = busy16on4();
  json["host"]["scheduler"] = {{"balance", false}};
  run_guest(s, "16 vCPUs on 4 pCPUs busy, no balancing",
            Scenario::from_json(json, "busy-16x4-nobalance"));
}
// The same with the VM limited to half the host (cpu.max "10000 5000": 2 of 4 pCPUs).
void BM_Busy16On4_CpuMax(benchmark::State& s) {
  auto json = busy16on4();
  json["vm"]["cpu_max"] = {{"quota", "10ms"}, {"period", "5ms"}};
  run_guest(s, "16 vCPUs on 4 pCPUs busy, cpu_max", Scenario::from_json(json, "busy-16x4-cpumax"));
}
void BM_Scale(benchmark::State& s) {
  const int n = static_cast<int>(s.range(0));
  run_guest(s, "scale " + std::to_string(n),
            Scenario::from_json(vcpusim::test::scale_scenario(n, "10ms"), "scale"));
}

// The trace path: the same run with its trace streamed as Chrome JSON (to a counting sink: the
// disk is not what is measured).
using vcpusim::test::CountingBuf;

void run_traced(benchmark::State& state, bool trace) {
  auto scenario = Scenario::load(kDemo);
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    CountingBuf buf;
    std::ostream out(&buf);
    std::unique_ptr<vcpusim::tools::TraceStream> stream;
    RunOptions options;
    if (trace)
      options.trace = [&](const vcpusim::sim::Components& components) {
        stream = std::make_unique<vcpusim::tools::TraceStream>(
            *scenario, components, vcpusim::sim::TraceFilter{}, &out, nullptr);
        return &stream->builder();
      };
    vcpusim::tools::run_scenario(*scenario, options);
    bytes = buf.n;
  }
  if (trace) {
    g_measured["trace"].trace_bytes_per_ms =
        static_cast<double>(bytes) / (static_cast<double>(scenario->duration) / 1e9);
    state.counters["trace_MB"] = static_cast<double>(bytes) / 1e6;
  }
}
void BM_Demo250_NoTrace(benchmark::State& s) {
  run_traced(s, false);
}
void BM_Demo250_Trace(benchmark::State& s) {
  run_traced(s, true);
}

BENCHMARK(BM_RawTimedWaits)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Demo)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Demo_EventPath)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_TimekeepingLatency)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Busy16On4)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Busy16On4_NoLookahead)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Busy16On4_Noise)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Busy16On4_CpuMax)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Busy16On4_NoBalance)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Demo250_NoTrace)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Demo250_Trace)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Scale)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->Iterations(1);

// Collects the time per iteration, then prints the table of ratios to the same-run baselines.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(isatty(1) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      // With --benchmark_repetitions the median stands for the benchmark (the other aggregates,
      // the standard deviation among them, are not times of a run).
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      // By function name, or name/argument for the scale series (without the run options).
      const std::string key =
          r.run_name.function_name + (r.run_name.args.empty() ? "" : "/" + r.run_name.args);
      times_[key] = r.GetAdjustedRealTime();
      cpu_times_[key] = r.GetAdjustedCPUTime();
      const auto rate = r.counters.find("guest_ops_per_s");
      const auto waits = r.counters.find("waits_per_s");
      if (rate != r.counters.end()) rates_[key] = rate->second;
      if (waits != r.counters.end()) raw_ = waits->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n| measure | value |\n|---|---|\n");
    std::printf("| raw SystemC timed waits/s (baseline) | %.3g |\n", raw_);
    const std::pair<const char*, const char*> guests[] = {
        {"BM_Demo", "demo"},
        {"BM_TimekeepingLatency", "timekeeping-latency"},
        {"BM_Busy16On4", "16 vCPUs on 4 pCPUs busy"},
        {"BM_Busy16On4_NoLookahead", "16 vCPUs on 4 pCPUs busy, no lookahead"},
        {"BM_Demo_EventPath", "demo_event_path"}};
    for (const auto& [bench, name] : guests) {
      const auto it = rates_.find(bench);
      if (it == rates_.end() || raw_ <= 0) continue;
      const Measured& m = g_measured[name];
      std::printf(
          "| %s: guest ops/s over raw waits/s | %.2fx (%.0f events/sim ms, %.2f ops/event) |\n",
          name, it->second / raw_, m.events_per_ms, m.ops_per_event);
    }
    // Host noise and bandwidth control against the plain 16-on-4 run (goal: within 15%).
    for (const char* variant : {"BM_Busy16On4_Noise", "BM_Busy16On4_CpuMax"}) {
      const auto base = rates_.find("BM_Busy16On4");
      const auto it = rates_.find(variant);
      if (base == rates_.end() || it == rates_.end() || base->second <= 0) continue;
      std::printf("| %s: guest ops/s over BM_Busy16On4's | %.2fx |\n", variant,
                  it->second / base->second);
    }
    // Balancing (the default), and balancing with noise, against the host without balancing.
    for (const char* variant : {"BM_Busy16On4", "BM_Busy16On4_Noise"}) {
      const auto base = rates_.find("BM_Busy16On4_NoBalance");
      const auto it = rates_.find(variant);
      if (base == rates_.end() || it == rates_.end() || base->second <= 0) continue;
      std::printf("| %s: guest ops/s over BM_Busy16On4_NoBalance's | %.2fx |\n", variant,
                  it->second / base->second);
    }
    const auto plain = times_.find("BM_Demo250_NoTrace");
    const auto traced = times_.find("BM_Demo250_Trace");
    if (plain != times_.end() && traced != times_.end() && plain->second > 0)
      std::printf(
          "| --trace run time over untraced (250 ms demo) | %.2fx, %.1f kB of trace/sim ms |\n",
          traced->second / plain->second, g_measured["trace"].trace_bytes_per_ms / 1e3);
    // Issue 30: the queue's buckets, with the hot events as std::function and as plain calls,
    // over the 4-ary heap of std::functions it replaced.
    for (int n : {16, 256}) {
      const std::string arg = "/" + std::to_string(n);
      const auto heap = cpu_times_.find("BM_Queue_Heap" + arg);
      const auto functions = cpu_times_.find("BM_Queue_BucketsFunctions" + arg);
      const auto calls = cpu_times_.find("BM_Queue_Buckets" + arg);
      if (heap == cpu_times_.end() || functions == cpu_times_.end() || calls == cpu_times_.end())
        continue;
      std::printf(
          "| event queue, %d pCPUs in lockstep: old heap's CPU time over the buckets' | %.2fx with "
          "std::function events, %.2fx with plain calls |\n",
          n, heap->second / functions->second, heap->second / calls->second);
    }
    // Issue 28: the C ticket lock (a plugin) over the built-in one (goal: at most 1.5x), and the
    // plugin built in instrumented mode over the plain plugin.
    const auto builtin = times_.find("BM_TicketLockBuiltin");
    const auto c_lock = times_.find("BM_TicketLockC");
    const auto instrumented = times_.find("BM_TicketLockCInstrumented");
    if (builtin != times_.end() && c_lock != times_.end() && builtin->second > 0)
      std::printf("| C ticket lock plugin's wall time over the built-in ticket lock's | %.2fx |\n",
                  c_lock->second / builtin->second);
    if (c_lock != times_.end() && instrumented != times_.end() && c_lock->second > 0)
      std::printf("| instrumented C ticket lock's wall time over the plain plugin's | %.2fx |\n",
                  instrumented->second / c_lock->second);
    double prev_n = 0, prev_t = 0;
    for (int n : {16, 64, 256, 1024}) {
      const auto it = times_.find("BM_Scale/" + std::to_string(n));
      if (it == times_.end()) continue;
      std::printf("| scale %d vCPUs on %d pCPUs, 10 ms simulated | %.3f s wall", n, n / 4,
                  it->second / 1e3);
      if (prev_n > 0)
        std::printf(", growth N^%.2f", std::log(it->second / prev_t) / std::log(n / prev_n));
      std::printf(" |\n");
      prev_n = n;
      prev_t = it->second;
    }
  }

 private:
  std::map<std::string, double> times_;
  std::map<std::string, double> cpu_times_;
  std::map<std::string, double> rates_;
  double raw_ = 0;
};

}  // namespace

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

int main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
