// Runs a sweep: every point x seed as its own `vcpusim run` process (SystemC elaborates once per
// process), `jobs` at a time, skipping runs DIR already has (resume), recording each finished run
// durably (sweep_results.hpp) and regenerating the outputs (sweep_report.hpp) at the end.
// SIGINT/SIGTERM stop it cleanly: running runs are killed and not recorded, finished ones stay.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "tools/sweep/sweep_spec.hpp"

namespace vcpusim::tools {

struct SweepOptions {
  std::string dir;
  std::size_t jobs = 1;
  std::size_t shard = 0, shards = 1;  // run only runs with index % shards == shard
  std::string self;                   // the vcpusim binary the runs execute
  bool terminal = false;              // progress bar instead of progress lines
};

constexpr int kSweepInterrupted = 130;

// Exit status: 0 when every run of the shard is recorded (failed runs are rows too),
// kSweepInterrupted after SIGINT/SIGTERM. Throws sim::ConfigError for an unusable DIR.
int run_sweep(const SweepSpec& spec, const SweepOptions& options);

// Combines the runs of shard directories into `out` and writes its outputs. Exit status 0, or 1
// when runs are missing (named on stderr). Throws sim::ConfigError when the shards differ.
int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out);

// Path of the running executable (/proc/self/exe).
std::string self_executable();

}  // namespace vcpusim::tools
