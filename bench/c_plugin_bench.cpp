// Issue 28's row: the C port of the ticket lock (examples/ticket_lock.c, a plugin) against the
// built-in ticket lock on the same scenario (goal: within 1.5x of its wall time), and the same
// plugin built in instrumented mode (`vcpusim cc --instrument`: every local access of its code
// passes through vcpusim's __tsan_* entry points) against the plain plugin. The summary of
// bench_main.cpp prints the ratios.
#include <benchmark/benchmark.h>

#include "plugin/plugin_set.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace {

const std::string kLockScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/lock-holder-preemption.json";

void run_lock(benchmark::State& state, const std::string& plugin, const std::string& kind) {
  vcpusim::plugin::PluginSet plugins;
  if (!plugin.empty()) plugins.load(std::string(VCPUSIM_PLUGIN_DIR) + "/" + plugin);
  const auto scenario = vcpusim::tools::Scenario::load(kLockScenario, {"guest.locks.kind=" + kind},
                                                       std::nullopt, plugins.registries());
  for (auto _ : state) benchmark::DoNotOptimize(vcpusim::tools::run_scenario(*scenario));
}

void BM_TicketLockBuiltin(benchmark::State& s) {
  run_lock(s, "", "ticket");
}
void BM_TicketLockC(benchmark::State& s) {
  run_lock(s, "ticket_lock.so", "c:ticket");
}
void BM_TicketLockCInstrumented(benchmark::State& s) {
  run_lock(s, "instrumented/ticket_lock.so", "c:ticket");
}

BENCHMARK(BM_TicketLockBuiltin)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_TicketLockC)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_TicketLockCInstrumented)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
