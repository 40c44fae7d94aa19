#include "tools/sweep/sweep_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "guest/registries.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "sim/record/metric_registry.hpp"
#include "tools/run/scenario.hpp"
#include "tools/sweep/sweep_model.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_stats.hpp"

namespace vcpusim::tools {
namespace {

namespace fs = std::filesystem;
using sim::Json;
using sim::Node;
using sim::Tick;

const std::vector<std::string> kSpecKeys = {"name",   "description", "scenario", "set",
                                            "axes",   "combine",     "seeds",    "metrics",
                                            "checks", "plots",       "model",    "run_budget"};
const std::vector<std::string> kAxisKeys = {"name",   "unit",  "scale", "path",
                                            "values", "range", "log",   "points"};

struct UnitScale {
  const char* name;
  double per;  // ticks or hertz per unit
};
const UnitScale kDurationUnits[] = {{"ps", 1}, {"ns", 1e3}, {"us", 1e6}, {"ms", 1e9}, {"s", 1e12}};
const UnitScale kFrequencyUnits[] = {{"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};

enum class Kind { kNumber, kDuration, kFrequency, kOther };

Kind kind_of(const Json& v) {
  if (v.is_number()) return Kind::kNumber;
  if (!v.is_string()) return Kind::kOther;
  const std::string s = v.get<std::string>();
  if (sim::parse_duration(s)) return Kind::kDuration;
  if (sim::parse_frequency(s)) return Kind::kFrequency;
  return Kind::kOther;
}

// The unit an axis of `kind` is plotted in, checked against the units it can have.
double unit_scale(const Node& axis, Kind kind, std::string& unit) {
  if (kind != Kind::kDuration && kind != Kind::kFrequency) return 1;
  const bool dur = kind == Kind::kDuration;
  if (unit.empty()) unit = dur ? "us" : "MHz";
  std::string allowed;
  for (const auto& u :
       dur ? std::vector<UnitScale>(std::begin(kDurationUnits), std::end(kDurationUnits))
           : std::vector<UnitScale>(std::begin(kFrequencyUnits), std::end(kFrequencyUnits))) {
    if (unit == u.name) return u.per;
    allowed += std::string(allowed.empty() ? "" : ", ") + u.name;
  }
  axis.at("unit").fail(sim::quote(unit) + " is not a unit of this axis's values", allowed);
}

std::optional<double> x_of(const Json& v, double scale) {
  switch (kind_of(v)) {
    case Kind::kNumber:
      return v.get<double>();
    case Kind::kDuration:
      return static_cast<double>(*sim::parse_duration(v.get<std::string>())) / scale;
    case Kind::kFrequency:
      return static_cast<double>(*sim::parse_frequency(v.get<std::string>())) / scale;
    case Kind::kOther:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string fnv1a_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t h = 1469598103934665603ULL;
  for (char c; in.get(c);) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string assignment(const std::string& path, const Json& value) {
  return path + "=" + value.dump();
}

// Scenario paths as `--set` takes them: a.b[0].c.
std::string read_path(const Node& n) {
  const std::string p = n.as_string();
  if (p.empty() || p.find('=') != std::string::npos || p.front() == '.' || p.back() == '.')
    n.fail(sim::quote(p) + " is not a scenario path", "a path such as \"host.load[0].idle\"");
  return p;
}

// A range {from, to, step} or {from, to, count} of plain numbers, durations or frequencies.
std::vector<Json> expand_range(const Node& r, bool log) {
  r.require_object();
  r.reject_unknown(log ? std::vector<std::string>{"from", "to", "count"}
                       : std::vector<std::string>{"from", "to", "step"});
  for (const char* k : {"from", "to", log ? "count" : "step"})
    if (!r.has(k))
      r.fail(std::string("missing key \"") + k + "\"",
             log ? "{from, to, count}" : "{from, to, step}");
  const Kind kind = kind_of(r.at("from").json());
  const std::string allowed =
      "numbers, or durations (\"10us\"), or frequencies (\"2GHz\"), all of one kind";
  if (kind == Kind::kOther)
    r.at("from").fail(
        sim::describe(r.at("from").json()) + " is not a number, duration or frequency", allowed);
  if (kind_of(r.at("to").json()) != kind)
    r.at("to").fail(sim::describe(r.at("to").json()) + " is not of the kind of \"from\"", allowed);
  // Work in integer ticks/hertz when the values have units, so the values are exact.
  auto num = [kind](const Node& n) -> double {
    if (kind == Kind::kDuration) return static_cast<double>(n.as_duration(0, sim::kForever));
    if (kind == Kind::kFrequency) return static_cast<double>(n.as_frequency(1, INT64_MAX));
    return n.as_real(-1e300, 1e300);
  };
  auto make = [kind](double v, bool integral) -> Json {
    if (kind == Kind::kDuration) return sim::format_duration(static_cast<Tick>(std::llround(v)));
    if (kind == Kind::kFrequency) return sim::format_frequency(std::llround(v));
    if (integral) return static_cast<std::int64_t>(std::llround(v));
    return v;
  };
  const double from = num(r.at("from")), to = num(r.at("to"));
  const bool integral = kind != Kind::kNumber || (r.at("from").json().is_number_integer() &&
                                                  r.at("to").json().is_number_integer());
  std::vector<Json> out;
  if (log) {
    const auto count = static_cast<std::size_t>(r.at("count").as_int(2, 10000));
    if (!(from > 0 && to > 0)) r.fail("a log range needs from > 0 and to > 0", "positive bounds");
    for (std::size_t i = 0; i < count; ++i) {
      const double v =
          i + 1 == count
              ? to
              : from * std::pow(to / from, static_cast<double>(i) / static_cast<double>(count - 1));
      out.push_back(make(v, integral));
    }
    return out;
  }
  const Node st = r.at("step");
  if (kind_of(st.json()) != kind)
    st.fail(sim::describe(st.json()) + " is not of the kind of \"from\"", allowed);
  const double step = num(st);
  const bool step_integral = kind != Kind::kNumber || st.json().is_number_integer();
  if (!(step > 0)) st.fail(sim::describe(st.json()) + " is not positive", "a step > 0");
  if (to < from)
    r.at("to").fail(sim::describe(r.at("to").json()) + " is below \"from\"", "to >= from");
  if ((to - from) / step >= 10000)
    r.fail("the range has more than 10000 values", "at most 10000 values");
  for (std::size_t i = 0;; ++i) {
    const double v = from + static_cast<double>(i) * step;
    if (v > to + std::fabs(step) * 1e-9) break;
    out.push_back(make(v, integral && step_integral));
  }
  return out;
}

Axis load_axis(const Node& a) {
  a.require_object();
  a.reject_unknown(kAxisKeys);
  Axis axis;
  if (!a.has("name")) a.fail("missing key \"name\"", "an axis name, used in column names");
  axis.name = a.at("name").as_string();
  if (axis.name.empty() || axis.name.find_first_of(",\"\n=") != std::string::npos)
    a.at("name").fail(sim::quote(axis.name) + " is not a usable column name",
                      "a non-empty name without , \" = or newline");
  if (a.has("unit")) axis.unit = a.at("unit").as_string();
  int forms = 0;
  for (const char* k : {"values", "range", "log", "points"}) forms += a.has(k) ? 1 : 0;
  if (forms != 1)
    a.fail("an axis needs exactly one of \"values\", \"range\", \"log\", \"points\"",
           "one of them");
  if (a.has("points")) {
    if (a.has("path"))
      a.at("path").fail("\"path\" is not used with \"points\"", "each point's \"set\"");
    const Node pts = a.at("points");
    pts.require_array();
    if (pts.size() == 0) pts.fail("no points", "at least one point");
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const Node p = pts.at(i);
      p.require_object();
      p.reject_unknown({"set", "value"});
      if (!p.has("value") || !p.has("set"))
        p.fail("a point needs \"value\" and \"set\"", "{\"value\": LABEL, \"set\": {PATH: VALUE}}");
      const Node v = p.at("value");
      if (!v.json().is_number() && !v.json().is_string())
        v.fail(sim::describe(v.json()) + " is not a number or string", "a number or a string");
      AxisValue av;
      av.label = v.json();
      const Node set = p.at("set");
      set.require_object();
      for (auto it = set.json().begin(); it != set.json().end(); ++it)
        av.sets.push_back(assignment(
            read_path(Node(Json(it.key()), set.file(), set.path() + "." + it.key())), it.value()));
      axis.values.push_back(std::move(av));
    }
  } else {
    if (!a.has("path"))
      a.fail("missing key \"path\"",
             "the scenario path this axis sets, e.g. \"host.load[0].idle\"");
    const std::string path = read_path(a.at("path"));
    std::vector<Json> vals;
    if (a.has("values")) {
      const Node v = a.at("values");
      v.require_array();
      if (v.size() == 0) v.fail("no values", "at least one value");
      for (std::size_t i = 0; i < v.size(); ++i) vals.push_back(v.at(i).json());
    } else {
      vals = expand_range(a.has("range") ? a.at("range") : a.at("log"), a.has("log"));
    }
    for (auto& v : vals) axis.values.push_back(AxisValue{v, std::nullopt, {assignment(path, v)}});
  }
  // Plot coordinates: numeric axes only, all values of one kind.
  const Kind kind = kind_of(axis.values.front().label);
  bool same = kind != Kind::kOther;
  for (const auto& v : axis.values) same = same && kind_of(v.label) == kind;
  std::vector<double> xs;
  if (same) {
    const double scale = unit_scale(a, kind, axis.unit);
    for (auto& v : axis.values) xs.push_back(*(v.x = x_of(v.label, scale)));
  }
  if (a.has("scale")) {
    axis.scale = a.at("scale").as_enum({"linear", "log"});
    if (axis.scale == "log" &&
        (!same || std::any_of(xs.begin(), xs.end(), [](double x) { return !(x > 0); })))
      a.at("scale").fail("\"log\" needs positive numeric values on this axis",
                         "\"linear\", or positive numbers, durations or frequencies");
  } else if (same && (a.has("log") || log_spaced(xs))) {
    axis.scale = "log";
  }
  return axis;
}

std::vector<std::string> string_list(const Node& n, const std::vector<std::string>* choices) {
  n.require_array();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    out.push_back(choices ? n.at(i).as_enum(*choices) : n.at(i).as_string());
    if (std::count(out.begin(), out.end(), out.back()) > 1)
      n.at(i).fail(sim::quote(out.back()) + " is listed twice", "each name once");
  }
  return out;
}

}  // namespace

bool log_spaced(const std::vector<double>& x) {
  if (x.size() < 3 || !(x.front() > 0)) return false;
  double log_sum = 0;
  for (std::size_t i = 1; i < x.size(); ++i) {
    if (!(x[i] >= 1.9 * x[i - 1])) return false;
    log_sum += std::log(x[i] / x[i - 1]);
  }
  const double mean = std::exp(log_sum / static_cast<double>(x.size() - 1));
  for (std::size_t i = 1; i < x.size(); ++i)
    if (std::fabs(x[i] / x[i - 1] / mean - 1) > 0.15) return false;
  return true;
}

SweepSpec SweepSpec::load(const std::string& file) {
  const Json raw = sim::load_json_file(file);
  SweepSpec s = parse(raw, file);
  s.load_points(raw);
  return s;
}

SweepSpec SweepSpec::parse(const Json& raw, const std::string& file) {
  const Node root(raw, file, "$");
  root.require_object();
  root.reject_unknown(kSpecKeys);
  SweepSpec s;
  s.file = file;
  if (!root.has("name")) root.fail("missing key \"name\"", "a sweep name");
  s.name = root.at("name").as_string();
  if (root.has("description")) s.description = root.at("description").as_string();
  if (!root.has("scenario"))
    root.fail("missing key \"scenario\"", "the base scenario file, relative to the spec");
  const std::string rel = root.at("scenario").as_string();
  s.scenario = fs::absolute(fs::path(file).parent_path() / rel).lexically_normal().string();
  std::error_code ec;  // a name too long for the file system is "not a file", not an exception
  if (!fs::is_regular_file(s.scenario, ec))
    root.at("scenario")
        .fail(sim::quote(rel) + " is not a file (resolved: " + s.scenario + ")",
              "a scenario file, relative to the spec");
  s.scenario_hash = fnv1a_of_file(s.scenario);
  if (root.has("set")) {
    const Node set = root.at("set");
    set.require_object();
    for (auto it = set.json().begin(); it != set.json().end(); ++it)
      s.fixed_sets.push_back(assignment(
          read_path(Node(Json(it.key()), set.file(), set.path() + "." + it.key())), it.value()));
  }
  if (!root.has("axes")) root.fail("missing key \"axes\"", "a list of axes");
  const Node axes = root.at("axes");
  axes.require_array();
  if (axes.size() == 0 || axes.size() > 8)
    axes.fail("has " + std::to_string(axes.size()) + " axes", "1 to 8 axes");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    s.axes.push_back(load_axis(axes.at(i)));
    for (std::size_t j = 0; j < i; ++j)
      if (s.axes[j].name == s.axes[i].name)
        axes.at(i).at("name").fail(sim::quote(s.axes[i].name) + " names two axes",
                                   "distinct axis names");
  }
  if (root.has("combine")) s.combine = root.at("combine").as_enum({"product", "zip"});
  if (!root.has("seeds"))
    root.fail("missing key \"seeds\"", "a count of seeds (1..N) or a list of seeds");
  const Node seeds = root.at("seeds");
  if (seeds.json().is_array()) {
    if (seeds.size() == 0) seeds.fail("no seeds", "at least one seed");
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      s.seeds.push_back(seeds.at(i).as_uint(0, kMaxSeed));
      if (std::count(s.seeds.begin(), s.seeds.end(), s.seeds.back()) > 1)
        seeds.at(i).fail(std::to_string(s.seeds.back()) + " is listed twice", "distinct seeds");
    }
  } else {
    const auto n = seeds.as_int(1, 100000);
    for (std::int64_t i = 1; i <= n; ++i) s.seeds.push_back(static_cast<std::uint64_t>(i));
  }
  if (root.has("run_budget"))
    s.run_budget = static_cast<std::uint64_t>(root.at("run_budget").as_int(1, INT64_MAX));
  // Points: axis 0 varies slowest, so runs are ordered by the first axis. The count is bounded
  // factor by factor, so it cannot wrap around.
  std::size_t count = 1;
  std::string factors;
  auto times = [&](std::size_t n, const std::string& what) {
    factors += (factors.empty() ? "" : " x ") + std::to_string(n) + " " + what;
    if (count > kMaxSweepRuns / n)
      root.fail(factors + " are more than " + std::to_string(kMaxSweepRuns) + " runs",
                "at most " + std::to_string(kMaxSweepRuns) + " runs (points x seeds)");
    count *= n;
  };
  if (s.combine == "zip") {
    for (std::size_t i = 1; i < s.axes.size(); ++i)
      if (s.axes[i].values.size() != s.axes[0].values.size())
        axes.at(i).fail("has " + std::to_string(s.axes[i].values.size()) + " values, axis 0 has " +
                            std::to_string(s.axes[0].values.size()),
                        "axes of equal length with \"combine\": \"zip\"");
    times(s.axes[0].values.size(), "points");
  } else {
    for (const auto& a : s.axes) times(a.values.size(), "values of " + a.name);
  }
  times(s.seeds.size(), "seeds");
  count /= s.seeds.size();
  std::map<std::string, std::size_t> first_with_key;
  for (std::size_t p = 0; p < count; ++p) {
    SweepPoint pt;
    pt.index = p;
    std::size_t rest = p;
    pt.value_of_axis.resize(s.axes.size());
    for (std::size_t i = s.axes.size(); i-- > 0;) {
      if (s.combine == "zip") {
        pt.value_of_axis[i] = p;
      } else {
        pt.value_of_axis[i] = rest % s.axes[i].values.size();
        rest /= s.axes[i].values.size();
      }
    }
    std::vector<std::pair<std::string, Json>> labels;
    for (std::size_t i = 0; i < s.axes.size(); ++i)
      labels.emplace_back(s.axes[i].name, s.axes[i].values[pt.value_of_axis[i]].label);
    s.point_keys.push_back(point_key(labels));
    const auto [seen, fresh] = first_with_key.emplace(s.point_keys.back(), p);
    if (!fresh)
      axes.fail("points " + std::to_string(seen->second) + " and " + std::to_string(p) +
                    " have the same values (" + Json(labels).dump() + ")",
                "distinct values on each axis, so that each point has its own key");
    s.points.push_back(std::move(pt));
  }
  // Result metrics must be declared ones (a typo would be an empty column and an empty plot);
  // "violations.CHECK" names are checked against $.checks by load_points.
  auto declared = [](const Node& list, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i].rfind("violations.", 0) != 0)
        sim::require_numeric_metric(list.at(i), names[i], guest::builtin_registries().metrics);
  };
  if (root.has("metrics")) {
    s.metrics = string_list(root.at("metrics"), nullptr);
    declared(root.at("metrics"), s.metrics);
  }
  if (root.has("plots")) {
    s.plots = string_list(root.at("plots"), nullptr);
    declared(root.at("plots"), s.plots);
    for (std::size_t i = 0; i < s.plots.size(); ++i)
      if (!s.metrics.empty() &&
          std::find(s.metrics.begin(), s.metrics.end(), s.plots[i]) == s.metrics.end())
        root.at("plots").at(i).fail(sim::quote(s.plots[i]) + " is not a collected metric",
                                    "a name from $.metrics");
  }
  if (root.has("model")) s.model = root.at("model").as_enum(model_names());
  return s;
}

void SweepSpec::load_points(const Json& raw) {
  const Node root(raw, file, "$");
  SweepSpec& s = *this;
  s.checks.clear();
  s.predicted.clear();
  s.model_warnings.clear();
  s.warnings.clear();
  // Every point must be a valid scenario; its checks bound which checks can be collected.
  std::vector<std::string> enabled;
  for (const auto& pt : s.points) {
    std::unique_ptr<Scenario> sc;
    try {
      sc = Scenario::load(s.scenario, s.sets_of(pt));
    } catch (const sim::ConfigError& e) {
      std::string where;
      for (std::size_t i = 0; i < s.axes.size(); ++i)
        where += (i ? ", " : "") + s.axes[i].name + "=" + s.label_of(pt, i);
      throw sim::ConfigError(file + ": point " + std::to_string(pt.index) + " (" + where +
                             ") is not a valid scenario: " + e.what());
    }
    if (pt.index == 0) enabled = sc->checks;
    for (const std::string& w : sc->warnings)
      if (std::find(s.warnings.begin(), s.warnings.end(), w) == s.warnings.end())
        s.warnings.push_back(w);
    std::string assumption;
    s.predicted.push_back(
        s.model.empty() ? std::nullopt : predict_violation_probability(s.model, *sc, &assumption));
    s.model_warnings.push_back(assumption);
  }
  if (root.has("checks")) {
    s.checks = string_list(root.at("checks"), &enabled);
  } else {
    s.checks = enabled;
  }
  for (const char* list : {"metrics", "plots"}) {
    const std::vector<std::string>& names = std::string(list) == "metrics" ? s.metrics : s.plots;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& m = names[i];
      if (m.rfind("violations.", 0) == 0 &&
          std::find(s.checks.begin(), s.checks.end(), m.substr(11)) == s.checks.end())
        root.at(list).at(i).fail(
            sim::quote(m) + " names no collected check",
            "\"violations.CHECK\" for a check in $.checks, or a result metric");
    }
  }
}

std::vector<std::string> SweepSpec::sets_of(const SweepPoint& p) const {
  std::vector<std::string> out = fixed_sets;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto& v = axes[i].values[p.value_of_axis[i]].sets;
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::string SweepSpec::label_of(const SweepPoint& p, std::size_t axis) const {
  const Json& l = axes[axis].values[p.value_of_axis[axis]].label;
  if (l.is_string()) return l.get<std::string>();
  if (l.is_number()) return format_number(l.get<double>());
  return l.dump();
}

Json SweepSpec::resolved() const {
  Json axes_json = Json::array();
  for (const auto& a : axes) {
    Json values = Json::array();
    for (const auto& v : a.values) values.push_back({{"label", v.label}, {"set", v.sets}});
    axes_json.push_back(
        {{"name", a.name}, {"unit", a.unit}, {"scale", a.scale}, {"values", values}});
  }
  Json points_json = Json::array();
  for (const auto& p : points) {
    Json labels = Json::array(), xs = Json::array();
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const AxisValue& v = axes[i].values[p.value_of_axis[i]];
      labels.push_back(label_of(p, i));
      xs.push_back(v.x ? Json(*v.x) : Json());
    }
    Json point = {{"index", p.index},
                  {"key", point_keys[p.index]},
                  {"labels", labels},
                  {"x", xs},
                  {"set", sets_of(p)},
                  {"predicted", predicted[p.index] ? Json(*predicted[p.index]) : Json()}};
    if (p.index < model_warnings.size() && !model_warnings[p.index].empty())
      point["model_warning"] = model_warnings[p.index];
    points_json.push_back(std::move(point));
  }
  Json out = {{"name", name},
              {"description", description},
              {"scenario", scenario},
              {"set", fixed_sets},
              {"axes", axes_json},
              {"combine", combine},
              {"seeds", seeds},
              {"metrics", metrics},
              {"checks", checks},
              {"plots", plots},
              {"model", model},
              {"points", points_json},
              {"scenario_fnv1a", scenario_hash}};
  out["run_budget"] = run_budget;
  return out;
}

}  // namespace vcpusim::tools
