#include "guest/guest_params.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <utility>

#include "sim/error.hpp"

namespace vcpusim::guest {

namespace {

// "name: doc; ..." of every kind, the description of "kind".
std::string kinds_doc(const WorkloadRegistry& kinds) {
  std::string doc;
  for (const WorkloadKind& k : kinds.entries())
    doc += (doc.empty() ? "" : "; ") + k.name + ": " + k.doc;
  return doc;
}

// "\"a\", \"b\" or \"c\"".
std::string quoted_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + ("\"" + names[i] + "\"");
  return out;
}

bool listed(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// What a vCPU set may be, for messages.
constexpr const char* kVcpuSetAllowed =
    "\"all\", a range \"A-B\" (A <= B), or a non-empty list of vCPU numbers and ranges, e.g. "
    "[0, \"2-3\"]";

// "A-B" with A and B decimal numbers of at most 9 digits; nullopt for anything else.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(const std::string& s) {
  const std::size_t dash = s.find('-');
  auto number = [](const std::string& d) -> std::optional<std::int64_t> {
    if (d.empty() || d.size() > 9 ||
        !std::all_of(d.begin(), d.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
      return std::nullopt;
    return std::stoll(d);
  };
  if (dash == std::string::npos) return std::nullopt;
  const auto a = number(s.substr(0, dash)), b = number(s.substr(dash + 1));
  if (!a || !b) return std::nullopt;
  return std::make_pair(*a, *b);
}

// The value of a kind's own parameter `param` at `node` (checked: type and range).
std::int64_t load_own(const KindParam& param, const sim::Node& node) {
  switch (param.type) {
    case KindParam::Type::kInt:
      return node.as_int(param.min, param.max);
    case KindParam::Type::kDuration:
      return node.as_duration(param.min * sim::kNanosecond, param.max * sim::kNanosecond) /
             sim::kNanosecond;
    case KindParam::Type::kBool:
      return node.as_bool() ? 1 : 0;
  }
  return 0;
}

sim::Json own_to_json(const KindParam& param, std::int64_t v) {
  switch (param.type) {
    case KindParam::Type::kDuration:
      return sim::format_duration(v * sim::kNanosecond);
    case KindParam::Type::kBool:
      return v != 0;
    case KindParam::Type::kInt:
      break;
  }
  return v;
}

sim::Json own_schema(const WorkloadKind& kind, const KindParam& param) {
  const std::string doc = kind.name + ": " + param.doc + " (" + param.unit + ")";
  switch (param.type) {
    case KindParam::Type::kDuration:
      return {{"type", "string"}, {"description", doc}};
    case KindParam::Type::kBool:
      return {{"type", "boolean"}, {"description", doc}};
    case KindParam::Type::kInt:
      break;
  }
  return {{"type", "integer"},
          {"minimum", param.min},
          {"maximum", param.max},
          {"default", param.def},
          {"description", doc}};
}

}  // namespace

void VcpuSetParam::add_item(const sim::Node& node, std::size_t index) {
  const std::string vms =
      "0 to " + std::to_string(vm_vcpus_ - 1) + " (vm.vcpus is " + std::to_string(vm_vcpus_) + ")";
  if (node.json().is_number_integer()) {
    const std::int64_t v = node.as_int(0, cpu::kMaxVcpus - 1);
    if (v >= vm_vcpus_) node.fail(std::to_string(v) + " is not a vCPU of this VM", vms);
    value.push_back(v);
    item.push_back(index);
    return;
  }
  if (!node.json().is_string())
    node.fail(sim::describe(node.json()) + " is not a vCPU number or range", kVcpuSetAllowed);
  const std::string text = node.json().get<std::string>();
  const auto range = parse_range(text);
  if (!range) node.fail(sim::quote(text) + " is not a vCPU range", kVcpuSetAllowed);
  if (range->first > range->second)
    node.fail(sim::quote(text) + " runs from high to low", "a range \"A-B\" with A <= B");
  if (range->second >= vm_vcpus_)
    node.fail(sim::quote(text) + " goes beyond the VM's vCPUs", "vCPUs " + vms);
  for (std::int64_t v = range->first; v <= range->second; ++v) {
    value.push_back(v);
    item.push_back(index);
  }
}

void VcpuSetParam::load(const sim::Node& n) {
  value.clear();
  item.clear();
  if (n.json().is_string() && n.json().get<std::string>() == "all") {
    value.resize(static_cast<std::size_t>(vm_vcpus_));
    for (std::int64_t v = 0; v < vm_vcpus_; ++v) value[static_cast<std::size_t>(v)] = v;
    item.assign(value.size(), 0);
    return;
  }
  if (n.json().is_string()) return add_item(n, 0);
  if (!n.json().is_array()) n.fail(sim::describe(n.json()) + " is not a vCPU set", kVcpuSetAllowed);
  if (n.size() == 0) n.fail("[] is empty: the workload would run nowhere", kVcpuSetAllowed);
  for (std::size_t i = 0; i < n.size(); ++i) add_item(n.at(i), i);
}

sim::Json VcpuSetParam::schema() const {
  const sim::Json number = {{"type", "integer"}, {"minimum", 0}, {"maximum", cpu::kMaxVcpus - 1}};
  const sim::Json range = {{"type", "string"}, {"pattern", "^[0-9]{1,9}-[0-9]{1,9}$"}};
  return {{"oneOf",
           {{{"type", "string"}, {"pattern", "^(all|[0-9]{1,9}-[0-9]{1,9})$"}},
            {{"type", "array"}, {"minItems", 1}, {"items", {{"oneOf", {number, range}}}}}}},
          {"description", doc()}};
}

WorkloadParams::WorkloadParams(const WorkloadRegistry& kinds, std::int64_t vm_vcpus)
    : kinds_(kinds),
      kind_doc_(kinds_doc(kinds)),
      kind(*this, "kind", "idle", kinds.names(), kind_doc_.c_str()),
      vcpus(*this, "vcpus", vm_vcpus,
            "vCPUs running this workload (one task each): \"all\", a range \"A-B\", or a list "
            "of vCPU numbers and ranges") {
  keyed_ = {&think, &chunk, &targets, &irqs,      &wait,      &mode,           &interval,
            &count, &work,  &start,   &period,    &section,   &sleep,          &domain,
            &role,  &locks, &hold,    &hold_dist, &long_hold, &long_hold_every, &user_percent};
}

const sim::ParamBase& WorkloadParams::member(const std::string& key) const {
  for (const sim::ParamBase* p : keyed_)
    if (key == p->name()) return *p;
  throw sim::SimError("workload kind \"" + kind.value + "\" declares the key \"" + key +
                      "\", which workloads do not have");
}

void WorkloadParams::load(const sim::Node& node) {
  node.require_object();
  if (!node.has("kind")) node.fail("missing key \"kind\"", quoted_names(kinds_.names()));
  kind.load(node.at("kind"));
  const WorkloadKind& k = spec();
  std::vector<std::string> allowed = {"kind", "vcpus"};
  allowed.insert(allowed.end(), k.keys.begin(), k.keys.end());
  for (const KindParam& p : k.params) allowed.push_back(p.name);
  node.reject_unknown(allowed);
  if (!node.has("vcpus")) node.fail("missing key \"vcpus\"", kVcpuSetAllowed);
  vcpus.load(node.at("vcpus"));
  for (sim::ParamBase* p : keyed_)
    if (node.has(p->name())) p->load(node.at(p->name()));
  at.clear();
  if (node.has("at")) {
    const sim::Node list = node.at("at");
    list.require_array();
    for (std::size_t i = 0; i < list.size(); ++i)
      at.push_back(list.at(i).as_duration(0, 1000 * sim::kSecond));
  }
  own.clear();
  for (const KindParam& p : k.params)
    own.push_back(node.has(p.name) ? load_own(p, node.at(p.name)) : p.def);
  if (k.validate) k.validate(*this, node);
}

sim::Json WorkloadParams::to_json() const {
  sim::Json out = {{"kind", kind.value}, {"vcpus", vcpus.value}};
  const WorkloadKind& k = spec();
  for (const std::string& key : k.keys) {
    if (key == "at") {
      out["at"] = sim::Json::array();
      for (sim::Tick t : at) out["at"].push_back(sim::format_duration(t));
      continue;
    }
    const sim::Json value = member(key).to_json();
    if (listed(k.echoed_when_set, key) && value == WorkloadParams(kinds_).member(key).to_json())
      continue;
    out[key] = value;
  }
  for (std::size_t i = 0; i < k.params.size(); ++i)
    out[k.params[i].name] = own_to_json(k.params[i], own.at(i));
  return out;
}

sim::Json WorkloadParams::schema() const {
  sim::Json s = ParamSet::schema();
  s["properties"]["at"] = {{"type", "array"},
                           {"description", "nmi_time_reader: times at which an NMI is raised"},
                           {"items", {{"type", "string"}}}};
  s["required"] = {"kind", "vcpus"};
  for (const WorkloadKind& k : kinds_.entries())
    for (const KindParam& p : k.params)
      if (!s["properties"].contains(p.name)) s["properties"][p.name] = own_schema(k, p);
  return s;
}

void GuestParams::load_from(const sim::Node& node, std::int64_t vcpus) {
  load_with(node, {"workloads"});
  if (timekeeping.cpu.value >= vcpus)
    node.at("timekeeping")
        .at("cpu")
        .fail(std::to_string(timekeeping.cpu.value) + " is not a vCPU of this VM",
              "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
  if (rcu.gp_cpu.value >= vcpus)
    node.at("rcu").at("gp_cpu").fail(
        std::to_string(rcu.gp_cpu.value) + " is not a vCPU of this VM",
        "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
  workloads.clear();
  if (!node.has("workloads")) return;
  const sim::Node list = node.at("workloads");
  list.require_array();
  std::vector<std::int64_t> tasks(static_cast<std::size_t>(vcpus), 0);
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto w = std::make_unique<WorkloadParams>(kinds_, vcpus);
    w->load(list.at(i));
    for (std::size_t k = 0; k < w->vcpus.value.size(); ++k) {
      const std::int64_t v = w->vcpus.value[k];
      const sim::Node named = list.at(i).at("vcpus");  // the item that named v, if a list
      const sim::Node where = named.json().is_array() ? named.at(w->vcpus.item[k]) : named;
      if (++tasks[static_cast<std::size_t>(v)] > kMaxTasksPerVcpu)
        where.fail(std::to_string(v) + " would be guest task " +
                       std::to_string(tasks[static_cast<std::size_t>(v)]) + " on vCPU " +
                       std::to_string(v),
                   "at most " + std::to_string(kMaxTasksPerVcpu) +
                       " guest tasks per vCPU over all workloads (each is a coroutine with its "
                       "own stack)");
    }
    for (std::size_t k = 0; k < w->targets.value.size(); ++k)
      if (w->targets.value[k] >= vcpus)
        list.at(i).at("targets").at(k).fail(
            std::to_string(w->targets.value[k]) + " is not a vCPU of this VM",
            "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
    if (const auto& fits_vm = w->spec().fits_vm) fits_vm(*w, list.at(i), vcpus);
    for (std::size_t k = 0; k < w->locks.value.size(); ++k)
      if (w->locks.value[k] >= locks.count.value)
        list.at(i).at("locks").at(k).fail(
            std::to_string(w->locks.value[k]) + " is not a lock of this guest",
            "0 to " + std::to_string(locks.count.value - 1) + " (guest.locks.count is " +
                std::to_string(locks.count.value) + ")");
    workloads.push_back(std::move(w));
  }
}

sim::Json GuestParams::to_json() const {
  sim::Json out = ParamSet::to_json();
  out["workloads"] = sim::Json::array();
  for (const auto& w : workloads) out["workloads"].push_back(w->to_json());
  return out;
}

sim::Json GuestParams::schema() const {
  sim::Json s = ParamSet::schema();
  WorkloadParams example(kinds_);
  s["properties"]["workloads"] = {{"type", "array"},
                                  {"description", "workloads; a vCPU without one idles"},
                                  {"items", example.schema()}};
  return s;
}

}  // namespace vcpusim::guest
