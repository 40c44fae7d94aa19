// `vcpusim shrink`: delta debugging (Zeller's ddmin) of a failing replay while its failure
// signature persists, over the schedule (drop decisions and injections, shorten preemptions, move
// access-placed injections earlier) and over the scenario (shorter duration, fewer load tasks,
// workloads and vCPUs, smaller workload counts). Dropping a decision means "take the default
// draw" (tools::ReplaySteer), so the minimal schedule lists only the choices the failure needs.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plugin/plugin_set.hpp"
#include "tools/run/schedule.hpp"

namespace vcpusim::tools {

// How big a replay is, in the terms shrink reduces.
struct ShrinkSize {
  std::size_t decisions = 0;
  std::size_t injections = 0;
  sim::Tick duration = 0;
  int vcpus = 0;
  std::size_t load_tasks = 0;
  std::size_t workloads = 0;
  static ShrinkSize of(const ReplayFile& r);
  std::string str() const;  // "3 decisions, 2 injections, 50ms, 2 vCPUs, 1 load task, 2 workloads"
};

struct ShrinkOptions {
  std::uint64_t max_runs = 2000;  // runs of candidates; the final and passing runs come on top
  // Called after each candidate run with (runs so far, size of the smallest failing replay).
  std::function<void(std::uint64_t, const ShrinkSize&)> progress;
  // The C plugins the replay's run needs (tools/run/plugin_options.hpp); every candidate runs
  // with them and the minimal replay records them as the input did.
  const plugin::PluginSet* plugins = nullptr;
};

struct ShrinkResult {
  ReplayFile min;                     // fails with the input's signature
  std::optional<ReplayFile> passing;  // min with one schedule item undone, which passes
  std::string undone;                 // that item, in words
  std::uint64_t runs = 0;             // candidate runs
  bool budget_exhausted = false;
  ShrinkSize before, after;
  std::vector<std::string> explanation;  // what happened, in kernel terms (tools/shrink_explain)
};

// Throws sim::ConfigError (file named) when `input` does not fail with its own signature.
ShrinkResult shrink(const ReplayFile& input, const std::string& file, const ShrinkOptions& options);

// A time for people: "16.008ms", "72.844us", "911ns" (microsecond precision above 1 ms).
std::string readable_time(sim::Tick t);

// One schedule item (a decision off its default, or an injection) in words.
std::string describe_decision(const sim::DecisionKey& key, std::int64_t value);
std::string describe_injection(const sim::Injection& in);

}  // namespace vcpusim::tools
