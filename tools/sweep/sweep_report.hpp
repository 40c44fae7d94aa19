// A sweep's outputs, regenerated from DIR/sweep.json and the run records: runs.csv (one row per
// run in run order; wall times go to timings.csv, so runs.csv is byte-identical between serial,
// parallel and sharded sweeps), summary.csv (per point), plots/ (gnuplot SVG) and index.html.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "tools/sweep/sweep_results.hpp"
#include "tools/sweep/sweep_stats.hpp"

namespace vcpusim::tools {

struct PointSummary {
  std::size_t index = 0;
  std::vector<std::string> labels;       // one per axis
  std::vector<std::optional<double>> x;  // plot coordinates, per axis
  std::size_t runs = 0, failed = 0, missing = 0;
  std::map<std::string, MetricStats> metrics;
  std::map<std::string, std::size_t> violating_runs;
  std::map<std::string, Proportion> violation;
  std::optional<double> predicted;
};

std::vector<PointSummary> summarize_points(const sim::Json& plan,
                                           const std::map<std::size_t, RunRecord>& records,
                                           const std::vector<std::string>& metric_names);

std::string runs_csv(const sim::Json& plan, const std::map<std::size_t, RunRecord>& records);
std::string summary_csv(const sim::Json& plan, const std::vector<PointSummary>& points,
                        const std::vector<std::string>& metric_names);

// Writes every output into `dir`; returns the warnings (e.g. gnuplot missing), one per line.
std::string write_sweep_outputs(const std::string& dir, const sim::Json& plan,
                                const std::map<std::size_t, RunRecord>& records);

}  // namespace vcpusim::tools
