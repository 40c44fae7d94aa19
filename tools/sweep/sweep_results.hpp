// The finished runs of a sweep: one JSON record per run in DIR/runs/, each written to a
// temporary file, fsynced and renamed into place, so a run is either wholly there or absent
// whatever moment the sweep is killed; runs.csv is regenerated from the records in run order.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/config.hpp"

namespace vcpusim::tools {

struct RunRecord {
  std::size_t run = 0;  // point * seeds + seed position: the order of runs.csv
  std::size_t point = 0;
  std::uint64_t seed = 0;
  std::string status;  // met, not-met, bad-input, sim-error, crashed
  int exit_code = 0;   // the run's exit status, or 128 + signal
  std::string error;   // the run's last line on stderr when it failed
  std::map<std::string, double> metrics;
  std::map<std::string, std::int64_t> violations;
  std::string fingerprint;
  double wall_seconds = 0;  // not in runs.csv: it differs between identical runs

  sim::Json to_json() const;
  static RunRecord from_json(const sim::Json& j);
  bool succeeded() const { return status == "met" || status == "not-met"; }
};

// File name of run `run` in DIR/runs.
std::string record_name(std::size_t run);

// Writes `text` to `path` via a temporary file in the same directory: write, fsync, rename,
// fsync the directory. Throws sim::ConfigError when the file cannot be written.
void write_file_durably(const std::string& path, const std::string& text);

// Every complete record in DIR/runs, by run; removes temporary files a killed sweep left.
std::map<std::size_t, RunRecord> read_records(const std::string& dir);
void write_record(const std::string& dir, const RunRecord& r);

// Metric names of the records (`wanted` when not empty), sorted.
std::vector<std::string> metric_columns(const std::map<std::size_t, RunRecord>& records,
                                        const std::vector<std::string>& wanted);

// A CSV field: quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

}  // namespace vcpusim::tools
