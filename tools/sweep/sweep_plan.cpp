#include "tools/sweep/sweep_plan.hpp"

#include <cfloat>
#include <cstdio>
#include <set>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/sweep/sweep_model.hpp"

namespace vcpusim::tools {
namespace {

using sim::Json;
using sim::Node;

void strings(const Node& n) {
  n.require_array();
  for (std::size_t i = 0; i < n.size(); ++i) (void)n.at(i).as_string();
}

void number_or_null(const Node& n) {
  if (!n.json().is_null()) (void)n.as_real(-DBL_MAX, DBL_MAX);
}

void check_axis(const Node& a) {
  a.require_object();
  a.reject_unknown({"name", "unit", "scale", "values"});
  (void)a.at("name").as_string();
  (void)a.at("unit").as_string();
  if (a.has("scale")) (void)a.at("scale").as_enum({"linear", "log"});
  const Node values = a.at("values");
  values.require_array();
  if (values.size() == 0) values.fail("no values", "at least one value");
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Node v = values.at(i);
    v.require_object();
    v.reject_unknown({"label", "set"});
    if (!v.at("label").json().is_number() && !v.at("label").json().is_string())
      v.at("label").fail(sim::describe(v.at("label").json()) + " is not a label",
                         "a number or a string");
    strings(v.at("set"));
  }
}

void check_point(const Node& p, std::size_t index, std::size_t axes) {
  p.require_object();
  p.reject_unknown({"index", "key", "labels", "x", "set", "predicted", "model_warning"});
  if (static_cast<std::size_t>(p.at("index").as_int(0, INT64_MAX)) != index)
    p.at("index").fail(sim::describe(p.at("index").json()) + " is not the point's position",
                       std::to_string(index) + " (points in order)");
  for (const char* k : {"labels", "x"}) {
    const Node list = p.at(k);
    list.require_array();
    if (list.size() != axes)
      list.fail("has " + std::to_string(list.size()) + " entries",
                "one per axis (" + std::to_string(axes) + ")");
  }
  strings(p.at("labels"));
  for (std::size_t i = 0; i < axes; ++i) number_or_null(p.at("x").at(i));
  strings(p.at("set"));
  number_or_null(p.at("predicted"));
  const std::string key = p.at("key").as_string();
  if (key.size() != 17 || key[0] != 'p' ||
      key.find_first_not_of("0123456789abcdef", 1) != std::string::npos)
    p.at("key").fail(sim::quote(key) + " is not a point key", "p and 16 hex digits");
  if (p.has("model_warning")) (void)p.at("model_warning").as_string();
}

}  // namespace

void check_plan(const Json& plan, const std::string& file) {
  const Node root(plan, file, "$");
  root.require_object();
  root.reject_unknown({"name", "description", "scenario", "scenario_fnv1a", "set", "axes",
                       "combine", "seeds", "metrics", "checks", "plots", "model", "run_budget",
                       "points"});
  for (const char* k : {"name", "description", "scenario", "scenario_fnv1a"})
    (void)root.at(k).as_string();
  for (const char* k : {"set", "metrics", "checks", "plots"}) strings(root.at(k));
  (void)root.at("combine").as_enum({"product", "zip"});
  if (root.at("model").json() != "") (void)root.at("model").as_enum(model_names());
  (void)root.at("run_budget").as_int(1, INT64_MAX);
  const Node axes = root.at("axes");
  axes.require_array();
  if (axes.size() == 0 || axes.size() > 8)
    axes.fail("has " + std::to_string(axes.size()) + " axes", "1 to 8 axes");
  for (std::size_t i = 0; i < axes.size(); ++i) check_axis(axes.at(i));
  const Node seeds = root.at("seeds");
  seeds.require_array();
  if (seeds.size() == 0) seeds.fail("no seeds", "at least one seed");
  std::set<std::int64_t> distinct;
  for (std::size_t i = 0; i < seeds.size(); ++i)
    if (!distinct.insert(seeds.at(i).as_int(0, INT64_MAX)).second)
      seeds.at(i).fail(sim::describe(seeds.at(i).json()) + " is listed twice", "distinct seeds");
  const Node points = root.at("points");
  points.require_array();
  if (points.size() == 0) points.fail("no points", "at least one point");
  if (points.size() > kMaxSweepRuns / seeds.size())
    points.fail(std::to_string(points.size()) + " points x " + std::to_string(seeds.size()) +
                    " seeds are more than " + std::to_string(kMaxSweepRuns) + " runs",
                "at most " + std::to_string(kMaxSweepRuns) + " runs");
  std::set<std::string> keys;
  for (std::size_t i = 0; i < points.size(); ++i) {
    check_point(points.at(i), i, axes.size());
    if (!keys.insert(points.at(i).at("key").as_string()).second)
      points.at(i).at("key").fail("is another point's key", "distinct points");
  }
}

Json read_plan(const std::string& file) {
  const Json plan = sim::parse_json_text(sim::read_input_file(file, "sweep"), file);
  check_plan(plan, file);
  return plan;
}

Json run_identity(const Json& plan) {
  Json sets = Json::array();
  for (const auto& p : plan.at("points")) sets.push_back(p.at("set"));
  return {plan.at("scenario"), plan.at("scenario_fnv1a"), plan.at("seeds"), sets,
          plan.at("run_budget")};
}

std::string sweep_key(const Json& plan) {
  const Json shared = {plan.at("scenario"), plan.at("scenario_fnv1a"), plan.at("run_budget")};
  return fnv1a64(shared.dump());
}

std::string run_key(const Json& plan, std::size_t point) {
  return sweep_key(plan) + ":" + fnv1a64(plan.at("points").at(point).at("set").dump());
}

std::string point_key(const std::vector<std::pair<std::string, Json>>& labels) {
  Json j = Json::array();
  for (const auto& [axis, value] : labels) j.push_back({axis, value});
  return "p" + fnv1a64(j.dump());
}

std::string run_id(const std::string& point_key, std::uint64_t seed) {
  return point_key + "-s" + std::to_string(seed);
}

std::string run_id(const Json& plan, std::size_t run) {
  const std::size_t seeds = plan.at("seeds").size();
  return run_id(plan.at("points").at(run / seeds).at("key").get<std::string>(),
                plan.at("seeds").at(run % seeds).get<std::uint64_t>());
}

PlanIndex::PlanIndex(const Json& plan) : seeds(plan.at("seeds").size()) {
  for (std::size_t i = 0; i < plan.at("points").size(); ++i)
    point_of_key[plan.at("points").at(i).at("key").get<std::string>()] = i;
  for (std::size_t i = 0; i < seeds; ++i)
    seed_position[plan.at("seeds").at(i).get<std::uint64_t>()] = i;
}

namespace {
std::string labels_of(const Json& point) {
  std::string out;
  for (const auto& l : point.at("labels")) out += (out.empty() ? "" : ", ") + l.get<std::string>();
  return "(" + out + ")";
}
}  // namespace

void check_grows(const Json& old_plan, const Json& plan, const std::string& dir) {
  const std::string allowed =
      "; allowed: the same spec, or one that adds points or seeds (use another -o DIR for "
      "another sweep)";
  for (const char* k : {"scenario", "scenario_fnv1a", "run_budget"})
    if (old_plan.at(k) != plan.at(k))
      throw sim::ConfigError(
          dir + ": holds runs of a different sweep: its " +
          (std::string(k) == "scenario_fnv1a" ? std::string("scenario file's content")
                                              : std::string(k)) +
          " was " + old_plan.at(k).dump() + ", the spec's is " + plan.at(k).dump() + allowed);
  const PlanIndex now(plan);
  for (const auto& p : old_plan.at("points")) {
    const auto it = now.point_of_key.find(p.at("key").get<std::string>());
    if (it == now.point_of_key.end())
      throw sim::ConfigError(dir + ": holds runs of point " + labels_of(p) +
                             ", which the spec no longer has" + allowed);
    if (plan.at("points").at(it->second).at("set") != p.at("set"))
      throw sim::ConfigError(dir + ": holds runs of point " + labels_of(p) +
                             " with other overrides than the spec's (" + p.at("set").dump() +
                             " then, " + plan.at("points").at(it->second).at("set").dump() +
                             " now)" + allowed);
  }
  for (const auto& seed : old_plan.at("seeds"))
    if (!now.seed_position.count(seed.get<std::uint64_t>()))
      throw sim::ConfigError(dir + ": holds runs of seed " + seed.dump() +
                             ", which the spec no longer has" + allowed);
}

std::size_t plan_runs(const Json& plan) {
  return plan.at("points").size() * plan.at("seeds").size();
}

std::string fnv1a64(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace vcpusim::tools
