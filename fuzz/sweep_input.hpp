// What sweep_fuzzer does with one input, shared with tests/robustness_test.cpp (FuzzRegressions)
// so that a committed finding replays exactly. The input is a sweep spec or a DIR/sweep.json,
// optionally followed by a line "#record" and a run record of that sweep. The spec, the plan and
// the record (as given, and re-checksummed so its fields are reached) must each end in success or
// sim::ConfigError; a spec that loads must have 1 to kMaxSweepRuns runs (the count never wraps)
// and, when it is small enough to load its points, a plan that reads back.
#pragma once
#include <cstdlib>
#include <string>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_results.hpp"
#include "tools/sweep/sweep_spec.hpp"

namespace vcpusim::fuzz {

// `source_dir` anchors the spec's scenario path as if the spec were in scenarios/sweeps/.
inline void read_sweep_input(const std::string& input, const std::string& source_dir) {
  const auto marker = input.find("\n#record\n");
  const std::string text = input.substr(0, marker);
  const std::string spec_file = source_dir + "/scenarios/sweeps/fuzz-input.json";
  try {
    const sim::Json raw = sim::parse_json_text(text, spec_file);
    tools::SweepSpec spec = tools::SweepSpec::parse(raw, spec_file);
    const std::size_t runs = spec.points.size() * spec.seeds.size();
    if (runs == 0 || runs > tools::kMaxSweepRuns) std::abort();
    if (runs <= 16) {  // each point loads the scenario: the scenario fuzzer covers that reader
      spec.load_points(raw);
      tools::check_plan(spec.resolved(), "resolved.json");
    }
  } catch (const sim::ConfigError&) {
  }
  sim::Json plan;
  try {
    plan = sim::parse_json_text(text, "sweep.json");
    tools::check_plan(plan, "sweep.json");
  } catch (const sim::ConfigError&) {
    return;
  }
  if (marker == std::string::npos) return;
  const std::string record = input.substr(marker + 9);
  try {
    (void)tools::read_record(record, "run.json", plan);
  } catch (const sim::ConfigError&) {
  }
  try {
    // The same record with a valid checksum (for its point, when it names one of the plan's),
    // so the fuzzer reaches the checks behind it.
    sim::Json j = sim::parse_json_text(record, "run.json");
    if (!j.is_object()) return;
    j.erase("checksum");
    const tools::PlanIndex index(plan);
    const auto point = j.contains("point") && j["point"].is_string()
                           ? index.point_of_key.find(j["point"].get<std::string>())
                           : index.point_of_key.end();
    const std::size_t at = point == index.point_of_key.end() ? 0 : point->second;
    j["checksum"] = tools::record_checksum(j, tools::run_key(plan, at));
    (void)tools::read_record(j.dump(), "run.json", plan);
  } catch (const sim::ConfigError&) {
  }
}

}  // namespace vcpusim::fuzz
