#include "cpu/params.hpp"

#include "cpu/ftrace/trace_load.hpp"

namespace vcpusim::cpu {
namespace {

// A lower bound `lo` above its upper bound `hi` fails at the one the scenario set (`hi` when it
// set both), naming both values.
void require_ordered(const sim::Node& node, const sim::ParamBase& lo, const std::string& lo_text,
                     const sim::ParamBase& hi, const std::string& hi_text) {
  const std::string lo_name = lo.name(), hi_name = hi.name();
  if (node.has(hi_name) || !node.has(lo_name))
    node.at(hi_name).fail(hi_text + " is below " + lo_name + " (" + lo_text + ")",
                          "at least " + lo_name + " (" + lo_text + ")");
  node.at(lo_name).fail(lo_text + " is above " + hi_name + " (" + hi_text + ")",
                        "at most " + hi_name + " (" + hi_text + ")");
}

}  // namespace

void FairParams::validate(const sim::Node& node) const {
  if (min_granularity.value > sched_latency.value)
    require_ordered(node, min_granularity, sim::quote(sim::format_duration(min_granularity.value)),
                    sched_latency, sim::quote(sim::format_duration(sched_latency.value)));
}

void VmParams::validate(const sim::Node& node) const {
  if (ple_window.value > ple_window_max.value)
    require_ordered(node, ple_window, std::to_string(ple_window.value), ple_window_max,
                    std::to_string(ple_window_max.value));
}

void LoadParams::load(const sim::Node& node) {
  node.require_object();
  if (!node.has("kind"))
    node.fail("missing key \"kind\"", "\"duty\", \"poisson\", \"script\" or \"trace\"");
  kind.load(node.at("kind"));
  std::vector<std::string> allowed = {"kind", "cpus", "nice"};
  if (kind.value == LoadKind::kDuty)
    allowed.insert(allowed.end(), {"busy", "idle", "phase", "phase_max", "busy_max"});
  if (kind.value == LoadKind::kPoisson) allowed.insert(allowed.end(), {"busy", "idle"});
  if (kind.value == LoadKind::kScript) allowed.push_back("windows");
  if (kind.value == LoadKind::kTrace)
    allowed.insert(allowed.end(), {"file", "format", "trace_cpus", "exclude", "exclude_pids",
                                   "from", "duration", "mode", "offset", "repeat"});
  node.reject_unknown(allowed);
  if (node.has("cpus")) cpus.load(node.at("cpus"));
  if (node.has("nice")) nice.load(node.at("nice"));
  if (node.has("busy")) busy.load(node.at("busy"));
  if (node.has("idle")) idle.load(node.at("idle"));
  if (node.has("phase")) phase.load(node.at("phase"));
  if (node.has("phase_max")) phase_max.load(node.at("phase_max"));
  if (node.has("busy_max")) busy_max.load(node.at("busy_max"));
  if (phase_max.value != 0 && phase_max.value < phase.value)
    node.at("phase_max").fail(sim::quote(sim::format_duration(phase_max.value)) +
                                  " is below phase (" + sim::format_duration(phase.value) + ")",
                              "0 (phase fixed) or at least phase");
  if (busy_max.value != 0 &&
      (busy_max.value < busy.value || busy_max.value > busy.value + idle.value))
    node.at("busy_max").fail(sim::quote(sim::format_duration(busy_max.value)) +
                                 " is outside [busy, busy + idle]",
                             "0 (busy fixed) or from " + sim::format_duration(busy.value) +
                                 " to " + sim::format_duration(busy.value + idle.value));
  if (cpus.value.empty()) node.at("cpus").fail("[] is empty", "a non-empty list of pCPU numbers");
  // A window shorter than 1 us is below any host timer's resolution (hrtimer slack is 50 us by
  // default) and only multiplies events: a poisson load of 1 ns busy and 1 ps idle made two
  // events and two decisions per simulated ns. A duty load's idle may be 0 (always busy).
  if (kind.value == LoadKind::kDuty || kind.value == LoadKind::kPoisson)
    for (const sim::DurationParam* w : {&busy, &idle}) {
      const bool may_be_zero = w == &idle && kind.value == LoadKind::kDuty;
      if ((w->value != 0 || !may_be_zero) && w->value < kMinLoadWindow)
        node.at(w->name()).fail(sim::quote(sim::format_duration(w->value)) + " is too short",
                                std::string(may_be_zero ? "0 or " : "") + "at least " +
                                    sim::format_duration(kMinLoadWindow));
    }
  if (kind.value == LoadKind::kTrace) read_trace_windows(*this, node);
  if (kind.value == LoadKind::kScript) {
    const sim::Node w = node.at("windows");
    w.require_array();
    Tick last_end = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const sim::Node pair = w.at(i);
      pair.require_array();
      if (pair.size() != 2)
        pair.fail(sim::describe(pair.json()) + " is not a pair", "[start, end]");
      const Tick start = pair.at(0).as_duration(0, sim::kForever / 2);
      const Tick end = pair.at(1).as_duration(0, sim::kForever / 2);
      if (end <= start || start < last_end)
        pair.fail(sim::describe(pair.json()) + " overlaps or is empty",
                  "windows in time order with start < end");
      windows.emplace_back(start, end);
      last_end = end;
    }
  }
}

sim::Json LoadParams::to_json() const {
  sim::Json out = {{"kind", kind.to_json()}, {"cpus", cpus.value}, {"nice", nice.value}};
  if (kind.value == LoadKind::kDuty) {
    out["busy"] = busy.to_json();
    out["idle"] = idle.to_json();
    out["phase"] = phase.to_json();
    // Only when set, so the resolved form of every fixed duty load stays as it was.
    if (phase_max.value != 0) out["phase_max"] = phase_max.to_json();
    if (busy_max.value != 0) out["busy_max"] = busy_max.to_json();
  } else if (kind.value == LoadKind::kPoisson) {
    out["busy"] = busy.to_json();
    out["idle"] = idle.to_json();
  } else if (kind.value == LoadKind::kTrace) {
    // An imported recording had its selection applied at import: those keys are not its own.
    for (const sim::ParamBase* p : std::initializer_list<const sim::ParamBase*>{
             &file, &format, &trace_cpus, &exclude, &exclude_pids, &from, &duration, &mode,
             &offset, &repeat})
      if (!trace_imported || (p != &exclude && p != &exclude_pids && p != &from && p != &duration))
        out[p->name()] = p->to_json();
    if (!trace_path.empty()) out["file"] = trace_path;
  } else {
    sim::Json w = sim::Json::array();
    for (const auto& [s, e] : windows)
      w.push_back({sim::format_duration(s), sim::format_duration(e)});
    out["windows"] = w;
  }
  return out;
}

sim::Json LoadParams::schema() const {
  sim::Json s = ParamSet::schema();
  s["properties"]["windows"] = {
      {"type", "array"},
      {"description", "script: busy windows [start, end] in time order"},
      {"items",
       {{"type", "array"}, {"minItems", 2}, {"maxItems", 2}, {"items", {{"type", "string"}}}}}};
  s["required"] = {"kind"};
  return s;
}

void HostParams::load_from(const sim::Node& node) {
  load_with(node, {"load"});
  if (sockets.value > pcpus.value)
    node.at("sockets").fail(
        std::to_string(sockets.value) + " sockets for " + std::to_string(pcpus.value) + " pCPUs",
        "a divisor of the cores (host.pcpus / host.threads_per_core), at most host.pcpus (" +
            std::to_string(pcpus.value) + ")");
  if (pcpus.value % threads_per_core.value != 0)
    node.at("threads_per_core")
        .fail(std::to_string(threads_per_core.value) + " threads per core for " +
                  std::to_string(pcpus.value) + " pCPUs",
              "a divisor of host.pcpus (" + std::to_string(pcpus.value) + ")");
  // The cores are split evenly among the sockets (cpu/host/topology.hpp): the count must divide.
  const std::int64_t cores = pcpus.value / threads_per_core.value;
  if (sockets.value > cores || cores % sockets.value != 0)
    node.at("sockets").fail(
        std::to_string(sockets.value) + " sockets for " + std::to_string(cores) +
            (cores == 1 ? " core" : " cores"),
        "a divisor of the cores, host.pcpus / host.threads_per_core (" + std::to_string(cores) +
            ")");
  if (!node.has("load")) return;
  const sim::Node list = node.at("load");
  list.require_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto p = std::make_unique<LoadParams>();
    p->load(list.at(i));
    for (std::size_t k = 0; k < p->cpus.value.size(); ++k)
      if (p->cpus.value[k] >= pcpus.value)
        list.at(i).at("cpus").at(k).fail(
            std::to_string(p->cpus.value[k]) + " is not a pCPU of this host",
            "0 to " + std::to_string(pcpus.value - 1) + " (host.pcpus is " +
                std::to_string(pcpus.value) + ")");
    load.push_back(std::move(p));
  }
}

sim::Json HostParams::to_json() const {
  sim::Json out = ParamSet::to_json();
  out["load"] = sim::Json::array();
  for (const auto& l : load) out["load"].push_back(l->to_json());
  return out;
}

sim::Json HostParams::schema() const {
  sim::Json s = ParamSet::schema();
  LoadParams example;
  s["properties"]["load"] = {
      {"type", "array"}, {"description", "host load generators"}, {"items", example.schema()}};
  return s;
}

void VmParams::load_from(const sim::Node& node, std::int64_t pcpus) {
  load_with(node, {"pinning"});
  pinning.clear();
  if (!node.has("pinning")) {
    std::vector<std::int64_t> all;
    for (std::int64_t c = 0; c < pcpus; ++c) all.push_back(c);
    pinning.assign(static_cast<std::size_t>(vcpus.value), all);
    return;
  }
  const sim::Node list = node.at("pinning");
  const std::string example = "e.g. [[0],[1]] pins vCPU0 to pCPU0 and vCPU1 to pCPU1";
  if (!list.json().is_array())
    list.fail(sim::describe(list.json()) + " is not a list", "a list, " + example);
  if (static_cast<std::int64_t>(list.size()) != vcpus.value)
    list.fail("has " + std::to_string(list.size()) + " entries",
              "one list of pCPUs per vCPU (" + std::to_string(vcpus.value) + " entries)");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const sim::Node entry = list.at(i);
    if (!entry.json().is_array())
      entry.fail(sim::describe(entry.json()) + " is not a list",
                 "one list of pCPU numbers per vCPU, " + example);
    if (entry.size() == 0) entry.fail("[] is empty", "a non-empty list of pCPU numbers");
    std::vector<std::int64_t> cpus;
    for (std::size_t k = 0; k < entry.size(); ++k) cpus.push_back(entry.at(k).as_int(0, pcpus - 1));
    pinning.push_back(cpus);
  }
}

sim::Json VmParams::to_json() const {
  sim::Json out = ParamSet::to_json();
  out["pinning"] = pinning;
  return out;
}

sim::Json VmParams::schema() const {
  sim::Json s = ParamSet::schema();
  s["properties"]["pinning"] = {
      {"type", "array"},
      {"description", "per vCPU, the pCPUs it may run on (default: all)"},
      {"items", {{"type", "array"}, {"items", {{"type", "integer"}, {"minimum", 0}}}}}};
  return s;
}

}  // namespace vcpusim::cpu
