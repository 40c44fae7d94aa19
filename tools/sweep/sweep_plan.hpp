// DIR/sweep.json, the resolved spec (SweepSpec::resolved), read back: resumes, merges and the
// outputs depend on it, and a shard's copy may be damaged or edited, so it is checked as strictly
// as a spec before anything uses it.
#pragma once
#include <cstddef>
#include <string>

#include "sim/config.hpp"

namespace vcpusim::tools {

// The most runs a sweep may have (points x seeds).
constexpr std::size_t kMaxSweepRuns = 1000000;

// Reads and checks `file`; throws sim::ConfigError naming the file, JSON path, value and what is
// allowed (an empty file, a wrong type, a missing key, points out of order, too many runs).
sim::Json read_plan(const std::string& file);
// The same checks on a plan already parsed; `file` names it in messages.
void check_plan(const sim::Json& plan, const std::string& file);

// What the runs of a sweep depend on: a DIR holding runs of the same identity can be resumed even
// when the spec's metrics, plots or model changed.
sim::Json run_identity(const sim::Json& plan);
// A short digest of run_identity: binds each run record's checksum to its sweep.
std::string sweep_key(const sim::Json& plan);

std::size_t plan_runs(const sim::Json& plan);  // points x seeds

// FNV-1a 64 of `text`, as 16 hex digits.
std::string fnv1a64(const std::string& text);

}  // namespace vcpusim::tools
