// DIR/sweep.json, the resolved spec (SweepSpec::resolved), read back: resumes, merges and the
// outputs depend on it, and a shard's copy may be damaged or edited, so it is checked as strictly
// as a spec before anything uses it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/config/config.hpp"

namespace vcpusim::tools {

// The most runs a sweep may have (points x seeds).
constexpr std::size_t kMaxSweepRuns = 1000000;

// Reads and checks `file`; throws sim::ConfigError naming the file, JSON path, value and what is
// allowed (an empty file, a wrong type, a missing key, points out of order, too many runs).
sim::Json read_plan(const std::string& file);
// The same checks on a plan already parsed; `file` names it in messages.
void check_plan(const sim::Json& plan, const std::string& file);

// What the runs of a sweep depend on: shards of one sweep have the same identity (their metrics,
// plots or model may differ).
sim::Json run_identity(const sim::Json& plan);
// A digest of what every run of the sweep shares (scenario, its content, run_budget): with the
// point's overrides (run_key), it binds each run record's checksum to its sweep.
std::string sweep_key(const sim::Json& plan);
// The checksum key of the runs of point `point`: sweep_key and a digest of the point's overrides.
std::string run_key(const sim::Json& plan, std::size_t point);

// A point's stable key: a digest of its axis names and values, so it stays the same when the
// spec gains points or seeds. A run's stable id is its point's key and its seed.
std::string point_key(const std::vector<std::pair<std::string, sim::Json>>& labels);
std::string run_id(const std::string& point_key, std::uint64_t seed);
// Run `run` of the plan (point * seeds + seed position): its id.
std::string run_id(const sim::Json& plan, std::size_t run);

// Where the runs of a plan are: point by key, seed position by seed.
struct PlanIndex {
  explicit PlanIndex(const sim::Json& plan);
  std::map<std::string, std::size_t> point_of_key;
  std::map<std::uint64_t, std::size_t> seed_position;
  std::size_t seeds = 0;
};

// A DIR that holds runs of `old_plan` may take the runs of `plan` when `plan` grows it: the same
// scenario (file and content) and run_budget, every old point still there (by key) with the same
// overrides, every old seed still there. Throws sim::ConfigError naming `dir` and what differs.
void check_grows(const sim::Json& old_plan, const sim::Json& plan, const std::string& dir);

std::size_t plan_runs(const sim::Json& plan);  // points x seeds

// FNV-1a 64 of `text`, as 16 hex digits.
std::string fnv1a64(const std::string& text);

}  // namespace vcpusim::tools
