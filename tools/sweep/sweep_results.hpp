// The finished runs of a sweep: one JSON record per run in DIR/runs/, each written to a
// temporary file, fsynced and renamed into place, so a run is either wholly there or absent
// whatever moment the sweep is killed; runs.csv is regenerated from the records in run order.
// Each record carries a checksum of its content bound to its sweep (sweep_plan.hpp sweep_key):
// resume and merge refuse a record that was edited, damaged, or copied from another sweep, and
// one whose run, point or seed is not one of the sweep's.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"

namespace vcpusim::tools {

struct RunRecord {
  // Stored: the run's stable id (its point's key and its seed), the point's key, the seed.
  std::string id;
  std::string point_key;
  std::uint64_t seed = 0;
  // Not stored (a grown spec moves them): the point's position in the plan, and the run's,
  // point * seeds + seed position, the order of runs.csv.
  std::size_t run = 0;
  std::size_t point = 0;
  // met, not-met, bad-input, sim-error, crashed, or budget-exceeded (the run_budget stopped it)
  std::string status;
  int exit_code = 0;   // the run's exit status, or 128 + signal
  std::string error;   // the run's last line on stderr when it failed
  std::map<std::string, double> metrics;
  std::map<std::string, std::int64_t> violations;
  std::string fingerprint;
  double wall_seconds = 0;  // not in runs.csv: it differs between identical runs

  sim::Json to_json() const;  // without the checksum
  bool succeeded() const { return status == "met" || status == "not-met"; }
};

// File name of the run with stable id `id` in DIR/runs.
std::string record_name(const std::string& id);
// A record of run `run` of the plan, its id, point key, seed and positions filled in.
RunRecord new_record(const sim::Json& plan, std::size_t run);

// The record file's text: the record and its checksum for its point of the sweep `plan`.
std::string record_text(const RunRecord& r, const sim::Json& plan);
// The checksum of a record's JSON (without its "checksum" member); `key` is run_key(plan, point).
std::string record_checksum(const sim::Json& content, const std::string& key);
// Reads a record file's text (`file` names it in messages) and checks it: that its point and
// seed are the plan's, its id theirs, and its checksum against run_key. Fills run and point.
// Throws sim::ConfigError naming the file, JSON path and value.
RunRecord read_record(const std::string& text, const std::string& file, const sim::Json& plan);
RunRecord read_record(const std::string& text, const std::string& file, const sim::Json& plan,
                      const PlanIndex& index);

// Every record in DIR/runs, by run, each checked by read_record and against its file name.
std::map<std::size_t, RunRecord> read_records(const std::string& dir, const sim::Json& plan);
void write_record(const std::string& dir, const sim::Json& plan, const RunRecord& r);

// Metric names of the records (`wanted` when not empty), sorted.
std::vector<std::string> metric_columns(const std::map<std::size_t, RunRecord>& records,
                                        const std::vector<std::string>& wanted);

// A CSV field: quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

}  // namespace vcpusim::tools
