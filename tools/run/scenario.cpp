#include "tools/run/scenario.hpp"

#include <algorithm>

#include "guest/timekeeping_laws.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {
namespace {
const std::vector<std::string> kTopLevel = {"name",   "description", "seed",  "duration",
                                            "host",   "vm",          "costs", "guest",
                                            "checks", "limits",      "expect", "explore",
                                            "plugins"};
}  // namespace

namespace {

// NTP moves mult by a fixed step per adjustment (guest/timekeeping_laws.hpp); refuse a run that
// would drive it out of the u32 of struct tk_read_base (zero or below breaks every clock read).
void check_ntp_range(const Scenario& s, const sim::Node& root) {
  namespace law = guest::tk_law;
  const guest::TimekeepingParams& tk = s.guest.timekeeping;
  if (tk.ntp.direction.value == guest::NtpDirection::kNone) return;
  const std::int64_t mult0 = law::initial_mult(s.vm.tsc_frequency.value, tk.shift.value);
  const auto [lowest, highest] =
      law::mult_range(tk.ntp.direction.value, mult0, law::ntp_step(tk.ntp, mult0),
                      law::most_adjustments(s.duration, tk.hz.value, tk.ntp.every_ticks.value));
  if (lowest < 1 || highest > __int128{UINT32_MAX})
    root.at("guest")
        .at("timekeeping")
        .at("ntp")
        .fail("the adjustments would move mult from " +
                  std::to_string(static_cast<long long>(mult0)) + " to " +
                  std::to_string(static_cast<long long>(lowest < 1 ? lowest : highest)) +
                  " within the run",
              "a step, direction and duration that keep mult in 1..4294967295");
}

// A variant the file selects exists to exercise a check (EnumParam's Choice::exercises): an
// explicit "checks" list without that check would hide the very bug the variant shows.
void warn_unchecked_variants(Scenario& s, const sim::Node& root) {
  std::vector<sim::ParamSet::Exercise> selected;
  s.guest.selected_exercises(root.at("guest"), selected);
  for (const auto& e : selected)
    if (std::find(s.checks.begin(), s.checks.end(), e.check) == s.checks.end())
      s.warnings.push_back(s.file + ": " + e.path + ": " + sim::quote(e.choice) +
                           " exists to exercise the check \"" + e.check +
                           "\", which $.checks leaves out, so this run does not check what it "
                           "shows; add \"" +
                           e.check + "\" to $.checks (vcpusim checks)");
}

}  // namespace

std::unique_ptr<Scenario> Scenario::load(const std::string& file,
                                         const std::vector<std::string>& overrides,
                                         std::optional<std::uint64_t> seed,
                                         const guest::Registries& registries) {
  return from_json(sim::load_json_file(file), file, overrides, seed, registries);
}

std::unique_ptr<Scenario> Scenario::from_json(sim::Json raw, const std::string& file,
                                              const std::vector<std::string>& overrides,
                                              std::optional<std::uint64_t> seed,
                                              const guest::Registries& registries) {
  for (const auto& o : overrides) sim::apply_override(raw, o, file);
  const sim::Node root(raw, file, "$");
  root.reject_unknown(kTopLevel);
  auto s = std::make_unique<Scenario>(registries);
  const std::vector<std::string> known_checks = registries.checks.names();
  s->file = file;
  if (!root.has("name")) root.fail("missing key \"name\"", "a scenario name");
  s->name = root.at("name").as_string();
  if (s->name.size() > kMaxNameBytes)
    root.at("name").fail(sim::quote(s->name) + " is " + std::to_string(s->name.size()) +
                             " bytes long",
                         "a name of at most " + std::to_string(kMaxNameBytes) + " bytes");
  if (root.has("description")) s->description = root.at("description").as_string();
  if (root.has("seed")) s->seed = root.at("seed").as_uint(0, kMaxSeed);
  if (seed) s->seed = *seed;
  if (!root.has("duration")) root.fail("missing key \"duration\"", "a duration such as \"100ms\"");
  s->duration = root.at("duration").as_duration(sim::kNanosecond, 1000 * sim::kSecond);
  const sim::Json empty = sim::Json::object();
  s->host.load_from(root.has("host") ? root.at("host") : sim::Node(empty, file, "$.host"));
  for (const auto& load : s->host.load)
    if (!load->trace_warning.empty()) s->warnings.push_back(load->trace_warning);
  s->vm.load_from(root.has("vm") ? root.at("vm") : sim::Node(empty, file, "$.vm"),
                  s->host.pcpus.value);
  if (root.has("costs")) static_cast<sim::ParamSet&>(s->costs).load(root.at("costs"));
  s->guest.load_from(root.has("guest") ? root.at("guest") : sim::Node(empty, file, "$.guest"),
                     s->vm.vcpus.value);
  s->checks = known_checks;
  if (root.has("checks")) {
    const sim::Node c = root.at("checks");
    c.require_array();
    s->checks.clear();
    for (std::size_t i = 0; i < c.size(); ++i) s->checks.push_back(c.at(i).as_enum(known_checks));
  }
  if (root.has("checks") && root.has("guest")) warn_unchecked_variants(*s, root);
  if (root.has("limits")) s->limits.load(root.at("limits"));
  if (root.has("expect")) {
    s->expect.load(root.at("expect"), known_checks, registries.metrics);
    const sim::Node ev = root.at("expect");
    if (ev.has("violations"))
      for (auto it = ev.at("violations").json().begin(); it != ev.at("violations").json().end();
           ++it)
        if (std::find(s->checks.begin(), s->checks.end(), it.key()) == s->checks.end())
          ev.at("violations")
              .at(it.key())
              .fail("expects check \"" + it.key() + "\" which is not enabled",
                    "checks listed in $.checks");
  }
  if (root.has("explore")) {
    s->has_explore = true;
    const sim::Node e = root.at("explore");
    s->explore.load(e);
    for (const char* list : {"vcpus", "nmi_vcpus"})
      if (e.has(list))
        for (std::size_t i = 0; i < e.at(list).size(); ++i)
          if (e.at(list).at(i).as_int(0, 1023) >= s->vm.vcpus.value)
            e.at(list).at(i).fail(
                sim::describe(e.at(list).at(i).json()) + " is not a vCPU of this VM",
                "0 to " + std::to_string(s->vm.vcpus.value - 1));
    if (s->explore.length_max.value < s->explore.length_min.value)
      e.at("length_max").fail(sim::quote(sim::format_duration(s->explore.length_max.value)) +
                                  " is below length_min",
                              "at least " + sim::format_duration(s->explore.length_min.value));
  }
  if (root.has("plugins")) {
    // Loaded before the scenario (plugin/plugin_set.hpp), only when the command line allows.
    const sim::Node p = root.at("plugins");
    p.require_array();
    for (std::size_t i = 0; i < p.size(); ++i) s->plugins.push_back(p.at(i).as_string());
  }
  check_ntp_range(*s, root);
  return s;
}

std::vector<int> Scenario::preemptible_vcpus() const {
  std::vector<int> out(explore.vcpus.value.begin(), explore.vcpus.value.end());
  if (out.empty())
    for (int v = 0; v < vm.vcpus.value; ++v) out.push_back(v);
  return out;
}

sim::Json Scenario::resolved() const {
  sim::Json r = resolved_core();
  if (has_explore) r["explore"] = explore.to_json();
  if (!plugins.empty()) r["plugins"] = plugins;
  return r;
}

sim::Json Scenario::resolved_core() const {
  return {{"name", name},
          {"description", description},
          {"seed", seed},
          {"duration", sim::format_duration(duration)},
          {"host", host.to_json()},
          {"vm", vm.to_json()},
          {"costs", costs.to_json()},
          {"guest", guest.to_json()},
          {"checks", checks},
          {"limits", limits.to_json()},
          {"expect", expect.to_json()}};
}

sim::Json Scenario::schema(const guest::Registries& registries) {
  Scenario s(registries);
  const std::vector<std::string> known_checks = registries.checks.names();
  sim::Json bound = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties", {{"min", {{"type", "number"}}}, {"max", {{"type", "number"}}}}}};
  sim::Json violation_props = sim::Json::object();
  for (const auto& c : known_checks) violation_props[c] = bound;
  return {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
          {"title", "vcpusim scenario"},
          {"type", "object"},
          {"additionalProperties", false},
          {"required", {"name", "duration"}},
          {"properties",
           {{"name",
             {{"type", "string"},
              {"maxLength", kMaxNameBytes},
              {"description", "scenario name (at most " + std::to_string(kMaxNameBytes) +
                                  " bytes of UTF-8)"}}},
            {"description", {{"type", "string"}, {"description", "what the scenario shows"}}},
            {"seed",
             {{"type", "integer"},
              {"minimum", 0},
              {"maximum", kMaxSeed},
              {"description", "seed of every random host choice (the whole unsigned 64-bit "
                              "range, as --seed)"}}},
            {"duration",
             {{"type", "string"},
              {"pattern", "^[0-9]+(\\.[0-9]+)?(ps|ns|us|ms|s)$"},
              {"description", "simulated time"}}},
            {"host", s.host.schema()},
            {"vm", s.vm.schema()},
            {"costs", s.costs.schema()},
            {"guest", s.guest.schema()},
            {"checks",
             {{"type", "array"},
              {"items", {{"enum", known_checks}}},
              {"description", "invariants to evaluate (default: all)"}}},
            {"limits", s.limits.schema()},
            {"explore", s.explore.schema()},
            {"plugins",
             {{"type", "array"},
              {"items", {{"type", "string"}}},
              {"description",
               "C guest-code plugins (shared objects, relative to the scenario file), loaded "
               "only with --allow-plugins or when --plugin names them too "
               "(docs/c-guest-code.md)"}}},
            {"expect",
             {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"violations",
                 {{"type", "object"},
                  {"additionalProperties", false},
                  {"properties", violation_props}}},
                {"metrics", {{"type", "object"}, {"additionalProperties", bound}}}}}}}}}};
}

}  // namespace vcpusim::tools
