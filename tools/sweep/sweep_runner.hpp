// Runs a sweep: every point x seed as its own `vcpusim run` process (SystemC elaborates once per
// process), `jobs` at a time, skipping runs DIR already has (resume), recording each finished run
// durably (sweep_results.hpp) and regenerating the outputs (sweep_report.hpp) at the end.
// SIGINT/SIGTERM stop it cleanly: running runs are killed and not recorded, finished ones stay.
// Every run ends: by its step budget (the spec's run_budget, deterministic, a row), or as a
// safety net by the wall limit (killed, not recorded, the sweep incomplete).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "sim/time.hpp"
#include "tools/sweep/sweep_spec.hpp"

namespace vcpusim::tools {

struct SweepOptions {
  std::string dir;
  std::size_t jobs = 1;
  std::size_t shard = 0, shards = 1;            // run only runs with index % shards == shard
  std::string self;                             // the vcpusim binary the runs execute
  bool terminal = false;                        // progress bar instead of progress lines
  sim::Tick max_run_wall = kDefaultMaxRunWall;  // a run still going after this is killed
  static constexpr sim::Tick kDefaultMaxRunWall = 3600 * sim::kSecond;
};

constexpr int kSweepIncomplete = 1;
constexpr int kSweepInterrupted = 130;

// Exit status: 0 when every run of the shard is recorded (failed runs are rows too),
// kSweepIncomplete when runs were killed by the wall limit, kSweepInterrupted after
// SIGINT/SIGTERM. Throws sim::ConfigError for an unusable DIR (not a sweep's, an input inside,
// another sweep's runs, a damaged record).
int run_sweep(const SweepSpec& spec, const SweepOptions& options);

// Combines the runs of shard directories into `out` and writes its outputs. Exit status 0, or
// kSweepIncomplete when runs are missing (named on stderr). Throws sim::ConfigError when the
// shards differ, a record is damaged or not one of the sweep's runs, or two shards disagree on a
// run.
int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out);

// Checks the sweep directory `dir` holds runs of the sweep `plan` (or none yet) and writes its
// sweep.json and runs/.
void prepare_sweep_dir(const std::string& dir, const sim::Json& plan);

}  // namespace vcpusim::tools
