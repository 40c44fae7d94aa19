// A sweep spec (scenarios/sweeps/*.json), strictly loaded: a base scenario, fixed overrides,
// axes of values (lists, linear or log ranges, or labelled points that set several paths), how
// axes combine, the seeds of each point, and what to collect. Its JSON Schema is schema().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/config.hpp"

namespace vcpusim::tools {

// One value of an axis: its label (the JSON value as written), its plot coordinate when it is
// numeric (durations and frequencies in the axis unit), and the scenario overrides it applies.
struct AxisValue {
  sim::Json label;
  std::optional<double> x;
  std::vector<std::string> sets;  // "PATH=JSON", as `vcpusim run --set`
};

struct Axis {
  std::string name;
  std::string unit;  // for plot labels; durations and frequencies are shown in it
  // "log" or "linear": the spec's "scale", else log_spaced() of a numeric axis (a `log` range
  // always is).
  std::string scale = "linear";
  std::vector<AxisValue> values;
};

// True when `x` (an axis's plot coordinates, in order) is log-spaced: at least 3 values, all
// positive and increasing, each ratio of neighbours at least 1.9 and within 15% of their
// geometric mean. Such values crowd the left of a linear axis.
bool log_spaced(const std::vector<double>& x);

// A point of the sweep: one value index per axis.
struct SweepPoint {
  std::size_t index = 0;
  std::vector<std::size_t> value_of_axis;
};

// The run_budget of a spec that names none: simulation steps (sim::Kernel::set_step_budget) per
// run. The heaviest run of the shipped sweeps (latency-variants, 8 readers) takes 2.8e7 steps;
// at 10 to 70 million steps a second, this budget ends a run after 2 to 17 minutes.
constexpr std::uint64_t kDefaultRunBudget = 10000000000ULL;

struct SweepSpec {
  // Reads, resolves ranges and validates every point's scenario (Scenario::load); throws
  // sim::ConfigError naming the file, JSON path, value and what is allowed.
  static SweepSpec load(const std::string& file);
  // The first half of load: the spec read from `raw` (`file` names it and anchors the scenario
  // path), its points made, but not yet loaded as scenarios: `checks` and `predicted` are empty.
  static SweepSpec parse(const sim::Json& raw, const std::string& file);
  // The second half: loads every point as a scenario (Scenario::load), then fills `checks` and
  // `predicted` and checks $.checks and $.metrics against the scenario's checks.
  void load_points(const sim::Json& raw);
  static sim::Json schema();
  // Everything the runs and reports depend on, with ranges expanded and each point's labels,
  // plot coordinates, overrides and model prediction: DIR/sweep.json. Shards and merges compare it.
  sim::Json resolved() const;

  // Every override of a point: the spec's fixed ones, then each axis value's.
  std::vector<std::string> sets_of(const SweepPoint& p) const;
  std::string label_of(const SweepPoint& p, std::size_t axis) const;

  std::string file;
  std::string name;
  std::string description;
  std::string scenario;       // absolute path of the base scenario
  std::string scenario_hash;  // FNV-1a of its content: a DIR's runs are of this very file
  std::vector<std::string> fixed_sets;
  std::vector<Axis> axes;
  std::string combine = "product";
  std::vector<std::uint64_t> seeds;
  std::uint64_t run_budget = kDefaultRunBudget;  // steps per run (run --max-steps)
  std::vector<std::string> metrics;  // empty: every numeric metric of the runs
  std::vector<std::string> checks;   // the base scenario's enabled checks, or the chosen ones
  std::vector<std::string> plots;    // metrics to plot; empty: none besides violations
  std::string model;                 // closed form drawn with the violation probability, or ""
  std::vector<SweepPoint> points;
  std::vector<std::optional<double>> predicted;  // per point, when `model` describes it
  // Per point: why the model's closed form may not hold there (an assumption the point breaks),
  // or "".
  std::vector<std::string> model_warnings;
  std::vector<std::string> point_keys;  // per point: point_key of its axis names and values
  std::vector<std::string> warnings;             // the points' Scenario::warnings, each once
};

}  // namespace vcpusim::tools
