// `vcpusim sweep merge`: the shards' records, each checked (checksum, run number, point, seed),
// combined into one sweep directory. A run two shards hold with different results is refused;
// the runs no shard holds are named.
#include <filesystem>
#include <iostream>
#include <map>

#include "sim/error.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_report.hpp"
#include "tools/sweep/sweep_results.hpp"
#include "tools/sweep/sweep_runner.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

namespace {

// Two records of one run agree when their results do (wall time differs between identical runs).
bool same_result(RunRecord a, RunRecord b) {
  a.wall_seconds = b.wall_seconds = 0;
  return a.to_json() == b.to_json();
}

// Adds `from`'s records to `records`; `where` remembers which file each came from.
void add_records(const std::string& dir, const std::map<std::size_t, RunRecord>& from,
                 std::map<std::size_t, RunRecord>& records,
                 std::map<std::size_t, std::string>& where) {
  for (const auto& [run, r] : from) {
    const std::string file = (fs::path(dir) / "runs" / record_name(r.id)).string();
    const auto [it, fresh] = records.emplace(run, r);
    if (fresh) {
      where[run] = file;
    } else if (!same_result(it->second, r)) {
      throw sim::ConfigError(file + ": holds run " + r.id + " with a result " + where[run] +
                             " holds differently; allowed: each run's record in one shard, or "
                             "the same result in several");
    }
  }
}

std::string missing_runs(const std::map<std::size_t, RunRecord>& records, const Json& plan) {
  std::string out;
  std::size_t listed = 0;
  for (std::size_t run = 0; run < plan_runs(plan); ++run) {
    if (records.count(run)) continue;
    if (listed++ == 20) return out + ", ...";
    out += (out.empty() ? "" : ", ") + run_id(plan, run);
  }
  return out;
}

}  // namespace

int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out) {
  Json plan;
  std::map<std::size_t, RunRecord> records;
  std::map<std::size_t, std::string> where;
  for (const auto& d : dirs) {
    const fs::path spec = fs::path(d) / "sweep.json";
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(spec, ec)))
      throw sim::ConfigError(d + ": not a sweep directory (no sweep.json)");
    const Json p = read_plan(spec.string());
    if (plan.is_null()) plan = p;
    if (run_identity(p) != run_identity(plan))
      throw sim::ConfigError(d + ": holds runs of a different sweep than " + dirs.front());
    add_records(d, read_records(d, p), records, where);
  }
  const std::string dir = claim_sweep_dir(out, {});
  const FdGuard lock{lock_sweep_dir(dir)};
  prepare_sweep_dir(dir, plan);
  remove_temporaries(dir, "");
  remove_temporaries(dir, "runs");
  const auto present = read_records(dir, plan);
  add_records(dir, present, records, where);
  for (const auto& [run, r] : records)
    if (!present.count(run)) write_record(dir, plan, r);
  std::cerr << write_sweep_outputs(dir, plan, records);
  const std::size_t expected = plan_runs(plan);
  if (records.size() < expected) {
    std::cerr << "sweep merge: " << expected - records.size() << " of " << expected
              << " runs are missing (runs " << missing_runs(records, plan)
              << "; no shard directory holds them); rerun those shards\n";
    return kSweepIncomplete;
  }
  return 0;
}

}  // namespace vcpusim::tools
