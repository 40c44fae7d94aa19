// Benchmarks, reported as ratios against a baseline measured in the same run.
//   event_path:  every guest operation goes through the event queue and a coroutine switch
//   decoupled:   the default, a running vCPU completes operations inline (Kernel::try_advance)
//   million:     a 1.1M-event run without and with --trace (events kept, translated, written)
// Run: build/vcpusim_bench [--benchmark_* options]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <streambuf>
#include <string>
#include <systemc>

#include "tools/scenario.hpp"
#include "tools/simulation.hpp"
#include "tools/trace_io.hpp"

namespace {

using vcpusim::tools::RunOptions;
using vcpusim::tools::Scenario;

const std::string kDemo = std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/vdso-time-backwards.json";

void run_demo(benchmark::State& state, bool decoupled) {
  auto scenario = Scenario::load(kDemo, {"duration=\"50ms\""});
  RunOptions options;
  options.temporal_decoupling = decoupled;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    const auto r = vcpusim::tools::run_scenario(*scenario, options);
    steps = r.document["metrics"]["sim.steps"].get<std::uint64_t>();
  }
  state.counters["guest_ops_per_s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate);
}

// The trace path: the same run keeping every event, translated and written as Chrome JSON (to a
// counting sink: the disk is not what is measured). The demo's 50 ms make ~220k events; the
// million-event case is the 250 ms catalogue run (1.1M events).
class CountingBuf : public std::streambuf {
 public:
  std::uint64_t n = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize k) override {
    n += static_cast<std::uint64_t>(k);
    return k;
  }
  int overflow(int c) override {
    ++n;
    return c;
  }
};

void run_traced(benchmark::State& state, const char* duration, bool trace) {
  auto scenario = Scenario::load(kDemo, {std::string("duration=\"") + duration + "\""});
  RunOptions options;
  options.keep_events = trace;
  std::uint64_t events = 0, bytes = 0;
  for (auto _ : state) {
    auto r = vcpusim::tools::run_scenario(*scenario, options);
    events = r.document["events"].get<std::uint64_t>();
    if (trace) {
      CountingBuf buf;
      std::ostream out(&buf);
      vcpusim::tools::make_trace(*scenario, r, {}).write_chrome_json(out);
      bytes = buf.n;
    }
  }
  state.counters["events"] = static_cast<double>(events);
  if (trace) state.counters["trace_MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_Demo_EventPath(benchmark::State& s) {
  run_demo(s, false);
}
void BM_Demo_Decoupled(benchmark::State& s) {
  run_demo(s, true);
}
BENCHMARK(BM_Demo_EventPath)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Demo_Decoupled)->Unit(benchmark::kMillisecond)->MinTime(2.0);
void BM_Million_NoTrace(benchmark::State& s) {
  run_traced(s, "250ms", false);
}
void BM_Million_ChromeTrace(benchmark::State& s) {
  run_traced(s, "250ms", true);
}
BENCHMARK(BM_Million_NoTrace)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Million_ChromeTrace)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Collects real time per iteration so the summary can print ratios to the baseline.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(isatty(1) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) times_[r.run_name.function_name] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto base = times_.find("BM_Demo_EventPath");
    const auto fast = times_.find("BM_Demo_Decoupled");
    if (base != times_.end() && fast != times_.end() && fast->second > 0)
      std::printf("speed-up of temporal decoupling over the event path (same run): %.2fx\n",
                  base->second / fast->second);
    const auto plain = times_.find("BM_Million_NoTrace");
    const auto traced = times_.find("BM_Million_ChromeTrace");
    if (plain != times_.end() && traced != times_.end() && plain->second > 0)
      std::printf("cost of --trace on a million-event run (same run): %.2fx the untraced time\n",
                  traced->second / plain->second);
  }

 private:
  std::map<std::string, double> times_;
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
