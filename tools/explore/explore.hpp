// `vcpusim explore`: runs many schedules of one scenario (tools/explore/explore_strategy.hpp), groups the
// failures by signature and keeps one replay file per signature. Deterministic: schedules are
// run in batches of kBatch whose plans depend only on the explore seed and the results of the
// batches before, so -j changes only the speed.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tools/explore/explore_strategy.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/replay.hpp"
#include "tools/run/schedule.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::tools {

struct ExploreOptions {
  std::string strategy = "pct";
  std::uint64_t schedules = 1000;
  std::chrono::milliseconds max_wall{0};  // 0: no wall-clock budget
  bool first = false;                     // stop at the first failing schedule
  int jobs = 1;
  std::uint64_t seed = 1;  // the strategy's own stream (not the scenario's seed)
  // Schedules that only add points to the scenario's own run may run forked from it at their
  // first point (tools/explore/fork_server.hpp): the same results, at another cost. kAuto forks
  // a batch's plans when the prefixes they skip outweigh one more run of the scenario and what a
  // fork was measured to cost (copy-on-write faults: dear on some virtual machines).
  enum class PrefixReuse { kAuto, kAlways, kNever };
  PrefixReuse prefix_reuse = PrefixReuse::kAuto;
  // --shard I/N: this process runs the schedules whose index is I modulo N (schedule 0, the
  // scenario's own run, is run by every shard for its profile but counted by shard 0 only).
  // shard_count 1: every schedule.
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;
  // Called after each batch with (schedules done, failing schedules so far).
  std::function<void(std::uint64_t, std::uint64_t)> progress;
  // The C plugins the scenario runs (loaded before: the workers and forks inherit them), which
  // each replay file records.
  std::vector<ReplayPlugin> plugins;
};

struct FoundFailure {
  Failure failure;
  std::uint64_t first_schedule = 0;  // index of the first schedule that showed it
  std::uint64_t schedules = 0;       // how many schedules showed it
  ReplayFile replay;
};

struct ExploreReport {
  std::string strategy;
  std::uint64_t schedules = 0;  // run
  std::uint64_t failing_schedules = 0;
  std::int64_t first_failure = -1;     // index of the first failing schedule, -1 if none
  std::vector<FoundFailure> failures;  // by signature, in the order found
  std::size_t coverage = 0;            // `cover`: interleavings reached
  std::vector<std::uint64_t> profile;  // shared-memory accesses per vCPU in schedule 0
  // What was covered: the windows of the scenario's own run (passes per window), the patterns
  // aimed with and the windows they matched (none matched: every window was aimed at), and in
  // how many schedules a preemption landed inside each window.
  std::map<std::string, std::uint64_t> windows_seen;
  std::vector<std::string> targets, aimed;
  std::map<std::string, std::uint64_t> windows_hit;
  // The overlaps aimed at (two named windows about one object open on two vCPUs at once), with
  // their instances in the scenario's own run (at most Strategy::kOverlapsPerName).
  std::map<std::string, std::uint64_t> overlaps;
  double wall_seconds = 0;
  std::uint64_t forked_schedules = 0;  // run forked from the scenario's run (not in to_json)
  bool stopped_by_wall = false;
  sim::Json to_json() const;  // without wall time: byte-identical for one command
  sim::Json windows_json() const;
  // The report of to_json() back (a shard's, for `explore merge`); ConfigError naming `file`
  // and the JSON path when it is not one.
  static ExploreReport from_json(const sim::Json& j, const std::string& file);
};

// Small, so `cover` learns from the first schedules early; large enough to amortise a fork.
constexpr std::uint64_t kBatch = 8;

// Runs one plan (in this process) and says what it found; `known`: the windows of the
// scenario's own run (the passes through others are kept in the outcome).
// `stacks`: the coroutine stacks kept from run to run (RunOptions::stacks).
Outcome run_plan(const Scenario& s, const Plan& plan, bool coverage,
                 const std::set<std::string>& known = {}, sim::StackPool* stacks = nullptr);
// What explore's worker processes send and receive: one line of JSON each. With `shared` (the
// counted words every plan of the explore carries, known to both ends) a schedule counting
// exactly those says so in one flag instead of listing them: the list is most of a line, and
// -j pays for every line twice (written, then parsed).
sim::Json outcome_json(const Outcome& o, const std::vector<std::string>* shared = nullptr);
Outcome outcome_from(const sim::Json& j, const std::vector<std::string>* shared = nullptr);
sim::Json plan_json(const Plan& p, const std::vector<std::string>* shared = nullptr);
Plan plan_from(const sim::Json& j, const std::vector<std::string>* shared = nullptr);
// The outcome of a run watched by `windows` (failure, fingerprint, windows hit and opened).
void finish_outcome(Outcome& o, const RunResult& r, const WindowWatch& windows);

// The windows of the scenario's own run, its accesses counted on `shared`.
WindowProfile window_profile(const Scenario& s, const std::vector<std::string>& shared,
                             sim::StackPool* stacks = nullptr);
// The replay file of an outcome; `plugins`: those the run loaded.
ReplayFile replay_of(const Scenario& s, const Outcome& o, const std::string& strategy,
                     const std::vector<ReplayPlugin>& plugins = {});

ExploreReport explore(const Scenario& s, const ExploreOptions& o);

}  // namespace vcpusim::tools
